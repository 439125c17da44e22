"""Duties: the week per unit, a volunteer's shifts, check-in (included in the web namespace by web/urls.py)."""

from django.urls import URLPattern, path

from muster.web import duty_mine_views, duty_plan_views, duty_views

urlpatterns: list[URLPattern] = [
    path("", duty_views.week, name="duties"),
    path("suggest", duty_views.suggest, name="duty-suggest"),
    path("shifts/new", duty_plan_views.new_shift, name="duty-shift-new"),
    path("shifts/<int:pk>/", duty_views.shift, name="duty-shift"),
    path("shifts/<int:pk>/assign", duty_views.assign, name="duty-assign"),
    path("shifts/<int:pk>/cancel", duty_views.cancel, name="duty-shift-cancel"),
    path("assignments/<int:pk>/cancel", duty_views.unassign, name="duty-unassign"),
    path("assignments/<int:pk>/check-in", duty_views.checking_in, name="duty-check-in"),
    path("assignments/<int:pk>/check-out", duty_views.checking_out, name="duty-check-out"),
    path("assignments/<int:pk>/no-show", duty_views.no_show, name="duty-no-show"),
    path("assignments/<int:pk>/correct", duty_views.correct, name="duty-correct"),
    path("assignments/<int:pk>/issue", duty_views.issue, name="duty-issue"),
    path("posts/", duty_plan_views.posts, name="duty-posts"),
    path("types/new", duty_plan_views.new_type, name="duty-type-new"),
    path("mine/", duty_mine_views.mine, name="my-shifts"),
    path("availability/", duty_mine_views.availability, name="duty-availability"),
    path(
        "availability/<int:pk>/withdraw",
        duty_mine_views.withdraw,
        name="duty-availability-withdraw",
    ),
    path("calendar.ics", duty_mine_views.calendar, name="duty-calendar"),
]
