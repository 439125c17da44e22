"""What-if and allocation: a draft policy simulated, allocation plans and their issue tasks
(included at /planning/ in the web namespace by web/urls.py)."""

from django.urls import URLPattern, path

from muster.web import planning_views

urlpatterns: list[URLPattern] = [
    path("simulate/", planning_views.simulate_page, name="planning-simulate"),
    path("simulate/export", planning_views.simulate_export, name="planning-simulate-export"),
    path("plans/", planning_views.plans, name="planning-plans"),
    path("plans/new", planning_views.plan_new, name="planning-plan-new"),
    path("plans/<int:pk>/", planning_views.plan_page, name="planning-plan"),
    path("plans/<int:pk>/approve", planning_views.plan_approve, name="planning-plan-approve"),
    path("plans/<int:pk>/withdraw", planning_views.plan_withdraw, name="planning-plan-withdraw"),
    path("tasks/", planning_views.tasks_page, name="planning-tasks"),
]
