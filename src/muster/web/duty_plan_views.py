"""Planning duties in the browser: shifts at a post (one, or the same on several days), the
posts of the units a user sees, and duty types. The services check the policy (the longest
shift, the qualifications and equipment it declares) and who may plan where."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.access.scope import Forbidden, Scope, require, sees_people, units_for
from muster.core.actors import Actor
from muster.core.errors import DomainError, NotFound
from muster.duties.facts import policy_for
from muster.duties.selectors import duty_types, iso_week, posts_in
from muster.duties.services import create_post, create_shifts, define_duty_type
from muster.duties.services.common import DEFINE_TYPES, MANAGE
from muster.people.models import Unit
from muster.policy.rules import targets
from muster.web.duty_forms import DutyTypeForm, PostForm, ShiftForm
from muster.web.errors import problems_on_form, scoped


def _policy_choices(unit: Unit) -> tuple[list[tuple[str, str]], list[str]]:
    """Qualifications (with their classes) and equipment targets the policy declares."""
    policy = policy_for(unit, timezone.localdate())
    qualifications = []
    for code, declared in policy.qualification_types.items():
        qualifications.append((code, declared.name))
        qualifications.extend((f"{code}/{k}", f"{declared.name} {k}") for k in declared.classes)
    return qualifications, targets(policy)


@scoped
def new_shift(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Plan a shift (or the same shift on several days) at a post the user manages."""
    require(scope, MANAGE, "shift")
    posts = posts_in(scope).filter(unit__in=units_for(scope, MANAGE)).select_related("unit")
    first = posts.order_by("code").first()
    if first is None:
        return render(request, "web/duties/new_shift.html", {"no_posts": True})
    qualifications, known = _policy_choices(first.unit)
    form = ShiftForm(
        request.POST or None,
        posts=posts.order_by("code"),
        qualifications=qualifications,
        targets=known,
        initial={"post": request.GET.get("post"), "day": request.GET.get("day"), "days": 1},
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = create_shifts(
                actor=Actor.for_user(request.user),
                post=form.cleaned_data["post"],
                spans=form.spans(),
                headcount=form.cleaned_data["headcount"],
                requirements=form.requirements(),
                equipment=form.cleaned_data["equipment"],
                notes=form.cleaned_data["notes"],
            )
        except (Forbidden, NotFound):
            raise
        except DomainError as error:
            problems_on_form(form, error, {"starts_at": "start", "ends_at": "end"})
        else:
            messages.success(request, _("%(n)s shifts planned.") % {"n": len(created)})
            week = iso_week(timezone.localdate(created[0].starts_at))
            unit = form.cleaned_data["post"].unit
            return redirect(f"{reverse('web:duties')}?unit={unit.code}&week={week}")
    return render(request, "web/duties/new_shift.html", {"form": form})


@scoped
def posts(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The posts of the units the user sees, the duty types, and forms to add either."""
    if not sees_people(scope):
        require(scope, MANAGE, "posts")
    post_form = PostForm(request.POST or None, prefix="post")
    type_form = DutyTypeForm(None, prefix="type")
    if request.method == "POST":
        require(scope, MANAGE, "post")
        if post_form.is_valid():
            data = post_form.cleaned_data
            unit = units_for(scope, MANAGE).filter(code=data["unit"]).first()
            if unit is None:
                post_form.add_error("unit", _("no unit you manage has this code"))
            else:
                try:
                    created = create_post(
                        actor=Actor.for_user(request.user), code=data["code"], name=data["name"],
                        unit=unit, duty_type=data["duty_type"], address=data["address"],
                        latitude=post_form.coordinate("latitude"),
                        longitude=post_form.coordinate("longitude"), notes=data["notes"],
                    )  # fmt: skip
                except (Forbidden, NotFound):
                    raise
                except DomainError as error:
                    problems_on_form(post_form, error)
                else:
                    messages.success(request, _("Post %(code)s added.") % {"code": created.code})
                    return redirect("web:duty-posts")
    return _posts_page(request, scope, post_form, type_form)


def _posts_page(
    request: HttpRequest, scope: Scope, post_form: PostForm, type_form: DutyTypeForm
) -> HttpResponse:
    context = {
        "posts": posts_in(scope).select_related("unit", "duty_type").order_by("unit__path", "code"),
        "types": duty_types(),
        "post_form": post_form if scope.may(MANAGE) else None,
        "type_form": type_form if scope.may(DEFINE_TYPES) else None,
        "units": units_for(scope, MANAGE).order_by("path")[:200] if scope.may(MANAGE) else [],
    }
    return render(request, "web/duties/posts.html", context)


@require_POST
@scoped
def new_type(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, DEFINE_TYPES, "duty type")
    form = DutyTypeForm(request.POST, prefix="type")
    if form.is_valid():
        try:
            created = define_duty_type(
                actor=Actor.for_user(request.user),
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
        except (Forbidden, NotFound):
            raise
        except DomainError as error:
            problems_on_form(form, error)
        else:
            messages.success(request, _("Duty type %(code)s added.") % {"code": created.code})
            return redirect("web:duty-posts")
    return _posts_page(request, scope, PostForm(prefix="post"), form)
