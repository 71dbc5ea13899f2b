"""GET /api/v1/...: grants, outputs, trials and their lineage, portfolio figures (JSON)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, jsonify, request, url_for
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from app.auth.access import api_required, public
from app.extensions import db
from app.grants import queries as grant_queries
from app.lineage.cli import lineage_to_json
from app.lineage.queries import OutputNotFound, downstream_trials, lineage, resolve_output_id
from app.models import GrantStatus, OutputType, TrialPhase, TrialStatus
from app.outputs import queries as output_queries
from app.portfolio.queries import portfolio_figures

from . import params, queries, serialise
from .auth import api_levels
from .errors import ApiError, api_error, http_error, json_error, server_error
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.register_error_handler(ApiError, api_error)
bp.register_error_handler(HTTPException, http_error)
bp.register_error_handler(500, server_error)


def routing_error() -> Response | None:
    """JSON, not the HTML page, for unknown paths and methods under /api/v1 (app-wide hook).

    Werkzeug raises these before any view or blueprint handler runs, so the
    blueprint's error handlers never see them.
    """
    error = request.routing_exception
    if isinstance(error, NotFound | MethodNotAllowed) and request.path.startswith(
        f"{bp.url_prefix}/"
    ):
        if isinstance(error, NotFound):
            return json_error(404, "No such API endpoint; see /api/v1/openapi.json.")
        return http_error(error)
    return None


@bp.after_request
def _no_store(response: Response) -> Response:
    # Answers depend on who asks and may be confidential: no shared or disk caches.
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Authorization")
    return response


@bp.get("/grants")
@api_required
def grants() -> Response:
    """List the grants the caller may see, filtered and paginated."""
    query = params.list_query(
        request.args,
        {
            "status": params.choice(request.args, "status", GrantStatus),
            "programme": params.integer(request.args, "programme", 1, params.MAX_ID),
            "year": params.integer(request.args, "year", params.FIRST_YEAR, params.LAST_YEAR),
        },
        grant_queries.SORTS,
        grant_queries.DEFAULT_SORT,
    )
    page = grant_queries.grant_list(db.session, query.params, api_levels())
    fictional = queries.fictional_grant_ids(db.session, [row.id for row in page.items])
    items = [serialise.grant_summary(row, row.id in fictional) for row in page.items]
    return jsonify(serialise.page(page, items, "api.grants", query.echo))


@bp.get("/grants/<path:reference>")
@api_required
def grant(reference: str) -> Response:
    """Show one grant, by its reference, with its outputs and downstream trials."""
    levels = api_levels()
    grant_id = queries.grant_id_by_reference(db.session, reference, levels)
    found = grant_queries.get_grant(db.session, grant_id, levels) if grant_id else None
    if found is None:
        raise ApiError(404, "No grant with that reference.")
    outputs = grant_queries.attributed_outputs(db.session, found.id, levels)
    trials = downstream_trials(db.session, [found.id], levels)
    return jsonify(serialise.grant_detail(found, outputs, trials, levels))


@bp.get("/outputs")
@api_required
def outputs() -> Response:
    """List the outputs the caller may see, filtered by type and year, paginated."""
    query = params.list_query(
        request.args,
        {
            "type": params.choice(request.args, "type", OutputType),
            "year": params.integer(request.args, "year", params.FIRST_YEAR, params.LAST_YEAR),
        },
        output_queries.SORTS,
        output_queries.DEFAULT_SORT,
    )
    page = output_queries.output_list(db.session, query.params, api_levels())
    dates = queries.output_dates(db.session, [row.id for row in page.items])
    items = [serialise.output_summary(row, dates[row.id]) for row in page.items]
    return jsonify(serialise.page(page, items, "api.outputs", query.echo))


@bp.get("/outputs/<int:output_id>")
@api_required
def output(output_id: int) -> Response:
    """Show one output with its typed details, credited grants and links."""
    levels = api_levels()
    # A number beyond the id range is a 404, not an integer overflow in the database.
    found = (
        output_queries.get_output(db.session, output_id, levels)
        if output_id <= params.MAX_ID
        else None
    )
    if found is None or found.deleted_at is not None:
        raise ApiError(404, "No output with that id.")
    attributions = output_queries.attributions_of(db.session, found.id, levels)
    upstream, downstream = output_queries.links_of(db.session, found.id, levels)
    return jsonify(serialise.output_detail(found, attributions, upstream, downstream))


@bp.get("/trials")
@api_required
def trials() -> Response:
    """List the clinical trials the caller may see, with their registry ids."""
    query = params.list_query(
        request.args,
        {
            "phase": params.choice(request.args, "phase", TrialPhase),
            "status": params.choice(request.args, "status", TrialStatus),
        },
        queries.TRIAL_SORTS,
        queries.TRIAL_DEFAULT_SORT,
    )
    page = queries.trial_list(db.session, query.params, api_levels())
    items = [serialise.trial_summary(row) for row in page.items]
    return jsonify(serialise.page(page, items, "api.trials", query.echo))


@bp.get("/trials/<identifier>/lineage")
@api_required
def trial_lineage(identifier: str) -> Response:
    """The pathway behind a trial (output id or registry id), as `grantpath lineage --json`."""
    # Digits name an output id; beyond the id range nothing can match.
    if identifier.isdigit() and int(identifier) > params.MAX_ID:
        raise ApiError(404, "No trial with that id.")
    try:
        result = lineage(db.session, resolve_output_id(db.session, identifier), api_levels())
    except OutputNotFound as error:
        raise ApiError(404, "No trial with that id.") from error
    if result.output.trial is None:
        raise ApiError(404, "That output is not a clinical trial.")
    return jsonify(lineage_to_json(result))


@bp.get("/portfolio")
@api_required
def portfolio() -> Response:
    """Portfolio figures for a period of award years (default: last year)."""
    last_year = date.today().year - 1
    start = params.integer(request.args, "from", params.PORTFOLIO_FIRST, params.PORTFOLIO_LAST)
    end = params.integer(request.args, "to", params.PORTFOLIO_FIRST, params.PORTFOLIO_LAST)
    base = params.integer(request.args, "base", params.PORTFOLIO_FIRST, params.PORTFOLIO_LAST)
    start = start or end or last_year
    end = end or start
    figures = portfolio_figures(db.session, min(start, end), max(start, end), api_levels(), base)
    return jsonify(serialise.portfolio(figures))


@bp.get("/openapi.json")
@public
def openapi() -> Response:
    """The OpenAPI document describing this API."""
    return jsonify(openapi_document())


@bp.get("/")
@public
def index() -> Response:
    """Point to the endpoints and the OpenAPI document."""
    names = ("grants", "outputs", "trials", "portfolio", "openapi")
    return jsonify({name: url_for(f"api.{name}", _external=True) for name in names})
