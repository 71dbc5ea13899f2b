"""User administration: /admin/users, /admin/users/new, /admin/users/<id>/edit, ..."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.audit.queries import history_of
from app.auth.access import admin_required
from app.auth.passwords import MIN_PASSWORD_LENGTH
from app.extensions import db
from app.models import Role, User, utcnow
from app.records.errors import FieldErrors, apply_to_form
from app.records.listing import ListParams
from app.records.services import Change, StaleEdit
from app.records.views import try_write

from . import queries, services
from .forms import EditUserForm, NewUserForm, PasswordForm

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


def _load(user_id: int) -> User:
    user = queries.get_user(db.session, user_id)
    if user is None:
        abort(404)
    return user


def _edit_page(
    user: User,
    form: EditUserForm,
    password_form: PasswordForm,
    changes: list[Change] | None = None,
) -> str:
    return render_template(
        "admin/edit.html",
        user=user,
        form=form,
        password_form=password_form,
        changes=changes or [],
        locked=user.locked_until is not None and user.locked_until > utcnow(),
        min_length=MIN_PASSWORD_LENGTH,
    )


def _save_account(form: EditUserForm, user: User) -> tuple[bool, list[Change] | None]:
    """try_edit for accounts, whose version is their newest audited edit (no version column)."""
    try:
        services.update_account(
            db.session,
            user,
            form.name.data,
            Role(form.role.data),
            form.status.data == "active",
            form.version.data,
        )
        db.session.commit()
    except StaleEdit as error:
        db.session.rollback()
        flash(str(error), "error")
        # Having seen what changed, the admin may deliberately save over it.
        form.version.data = queries.edit_mark(db.session, user.id)
        return False, error.changes
    except FieldErrors as error:
        db.session.rollback()
        apply_to_form(form, error)
        return False, None
    return True, None


@bp.route("")
@admin_required
def index() -> Response:
    """Send /admin to the user list."""
    return redirect(url_for("admin.users"))


@bp.route("/users")
@admin_required
def users() -> str:
    """List user accounts with their role, state and last log-in."""
    params = ListParams.from_args(
        request.args,
        queries.FILTERS,
        list(queries.SORTS),
        queries.DEFAULT_SORT,
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "admin/users.html",
        page=queries.user_list(db.session, params),
        params=params,
        roles=Role.choices(),
        statuses=queries.STATUSES,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def new_user() -> str | Response:
    """Create a user account with an initial password."""
    form = NewUserForm()
    if form.validate_on_submit():
        user = try_write(
            form,
            lambda: services.create_account(
                db.session,
                form.email.data or "",
                form.name.data,
                Role(form.role.data),
                form.password.data or "",
            ),
        )
        if user is not None:
            flash(f"User {user.email} created; they can log in now.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/new.html", form=form, min_length=MIN_PASSWORD_LENGTH)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int) -> tuple[str, int] | str | Response:
    """Change a user's name, role or active flag; an outdated form is refused."""
    user = _load(user_id)
    form = EditUserForm(obj=user)
    if request.method == "GET":
        form.version.data = queries.edit_mark(db.session, user.id)
        form.status.data = "active" if user.is_active else "inactive"
    if form.validate_on_submit():
        saved, conflict = _save_account(form, user)
        if saved:
            flash(f"User {user.email} saved.", "success")
            if user.id == current_user.id and not (user.is_admin and user.is_active):
                return redirect(url_for("dashboard.home"))
            return redirect(url_for("admin.users"))
        if conflict is not None:
            return _edit_page(user, form, PasswordForm(formdata=None), conflict), 409
    return _edit_page(user, form, PasswordForm(formdata=None))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@admin_required
def reset_password(user_id: int) -> str | Response:
    """Give a user a new password."""
    user = _load(user_id)
    form = PasswordForm()
    if form.validate_on_submit() and try_write(
        form, lambda: services.reset_password(db.session, user, form.password.data or "")
    ):
        flash(f"Password of {user.email} reset.", "success")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    edit_form = EditUserForm(formdata=None, obj=user)
    edit_form.version.data = queries.edit_mark(db.session, user.id)
    edit_form.status.data = "active" if user.is_active else "inactive"
    return _edit_page(user, edit_form, form)


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@admin_required
def unlock_user(user_id: int) -> Response:
    """Lift a lockout after repeated failed log-ins."""
    user = _load(user_id)
    changed = services.unlock(db.session, user)
    db.session.commit()
    flash(f"User {user.email} {'unlocked' if changed else 'was not locked'}.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/history")
@admin_required
def user_history(user_id: int) -> str:
    """Show every audited change, log-in and failed log-in of an account."""
    user = _load(user_id)
    return render_template(
        "records/history.html",
        events=history_of(db.session, user),
        record_label=f"User {user.email}",
        back_url=url_for("admin.edit_user", user_id=user.id),
    )
