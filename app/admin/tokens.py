"""API tokens: /admin/api-tokens, /admin/api-tokens/new, /admin/api-tokens/<id>/revoke, ..."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.api import queries, services
from app.audit.queries import history_of
from app.auth.access import admin_required
from app.extensions import db
from app.models import ApiToken, utcnow
from app.records.forms import options
from app.records.views import try_write

from .token_forms import ApiTokenForm
from .views import bp


def _load(token_id: int) -> ApiToken:
    token = queries.get_token(db.session, token_id)
    if token is None:
        abort(404)
    return token


@bp.route("/api-tokens")
@admin_required
def api_tokens() -> str:
    """List API tokens: whom each acts as, when it was last used, whether it still works."""
    return render_template("admin/api_tokens.html", tokens=queries.token_list(db.session, utcnow()))


@bp.route("/api-tokens/new", methods=["GET", "POST"])
@admin_required
def new_api_token() -> str | Response:
    """Issue an API token and show it once."""
    form = ApiTokenForm()
    form.owner_id.choices = options(queries.owner_choices(db.session), blank="Choose a user")
    if form.validate_on_submit():
        issued = try_write(
            form,
            lambda: services.create_token(
                db.session,
                form.name.data,
                int(form.owner_id.data or 0),
                form.lifetime_days(),
                current_user._get_current_object(),  # type: ignore[attr-defined]
            ),
        )
        if issued is not None:
            # Shown in the answer to the POST, not after a redirect: the secret must not
            # travel through the session cookie, and no cache may keep the page.
            page = render_template(
                "admin/api_token_created.html", token=issued.token, secret=issued.secret
            )
            response = make_response(page, 201)
            response.headers["Cache-Control"] = "no-store"
            return response
    return render_template("admin/api_token_new.html", form=form)


@bp.route("/api-tokens/<int:token_id>/revoke", methods=["POST"])
@admin_required
def revoke_api_token(token_id: int) -> Response:
    """Revoke an API token for good."""
    token = _load(token_id)
    revoked = services.revoke_token(db.session, token)
    db.session.commit()
    state = "revoked; it no longer works" if revoked else "was already revoked"
    flash(f"API token {token.prefix}… ({token.name}) {state}.", "success")
    return redirect(url_for("admin.api_tokens"))


@bp.route("/api-tokens/<int:token_id>/history")
@admin_required
def api_token_history(token_id: int) -> str:
    """Show when an API token was issued and revoked, and by whom."""
    token = _load(token_id)
    return render_template(
        "records/history.html",
        events=history_of(db.session, token),
        record_label=f"API token {token.prefix}… ({token.name})",
        back_url=url_for("admin.api_tokens"),
    )
