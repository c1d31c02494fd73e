from django.contrib.auth import authenticate, login
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect

from .models import Member
from .sessions import start_member_session


def kiosk_login(request):
    member = Member.objects.filter(card=request.POST.get("card")).first()
    if member is None or not member.check_pin(request.POST.get("pin", "")):
        return HttpResponseForbidden()
    request.session["member_id"] = member.pk  # VULNERABLE: the session key is kept
    return redirect("/")


def staff_login(request):
    user = authenticate(request, username=request.POST["username"], password=request.POST["password"])
    if user is None:
        return HttpResponseForbidden()
    login(request, user)  # fixed: login() cycles the key
    return redirect("/staff/")


def badge_login(request):
    member = Member.objects.filter(badge=request.POST.get("badge")).first()
    if member is None:
        return HttpResponse(status=404)
    start_member_session(request, member)  # fixed: the helper cycles the key first
    return redirect("/")
