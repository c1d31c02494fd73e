"""Django: `cycle_key()` after the identity write, on the request in scope; before a
`return` that reaches the write through a helper."""
from django.http import HttpResponse
from django.views import View


def remember(request, member):
    request.session["member_id"] = member
    return HttpResponse("ok")


def sign_in(request):
    request.session["member_id"] = request.POST["member"]
    request.session.cycle_key()
    return HttpResponse("ok")


def quick_sign_in(request):
    request.session.cycle_key()
    return remember(request, request.POST["member"])


class SignIn(View):
    def post(self, request):
        self.request.session["member_id"] = request.POST["member"]
        self.request.session.cycle_key()
        return HttpResponse("ok")
