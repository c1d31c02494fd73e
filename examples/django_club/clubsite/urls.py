from django.urls import path

from club import views

urlpatterns = [
    path("kiosk/", views.kiosk_login),
    path("staff/", views.staff_login),
    path("badge/", views.badge_login),
]
