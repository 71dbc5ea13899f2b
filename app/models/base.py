"""Declarative base, shared column types and mixins for every model."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

# One naming convention for every constraint, so Alembic can name, compare and
# drop them identically on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time in UTC, timezone-aware."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp always stored and returned as UTC.

    SQLite has no time zones, so we store naive UTC and re-attach UTC on load;
    PostgreSQL gets a plain timestamp too, so both engines behave the same.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class ScaledDecimal(sa.TypeDecorator[Decimal]):
    """An exact decimal stored as a scaled integer (e.g. cents for scale 2).

    SQLite has no exact decimal type (NUMERIC becomes a float), so money and
    rates are stored as integers on both engines; SUM() stays exact and the
    value comes back as a Decimal. A value with more decimals than the scale
    is refused rather than rounded.
    """

    impl = sa.BigInteger
    cache_ok = True

    def __init__(self, scale: int = 2) -> None:
        super().__init__()
        self.scale = scale

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Any) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value).scaleb(self.scale)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.scale)

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


Money = ScaledDecimal(2)


class Base(so.DeclarativeBase):
    """Base class of every model."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        Decimal: Money,
    }


class TimestampMixin:
    """UTC creation and last-update times."""

    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)


class VersionedMixin:
    """A version counter for optimistic locking.

    SQLAlchemy adds ``WHERE version = :old`` to every UPDATE and raises
    StaleDataError when another transaction changed the row meanwhile.
    """

    version: so.Mapped[int] = so.mapped_column(default=1)

    @so.declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.version}  # type: ignore[attr-defined]


class SoftDeleteMixin:
    """Deleted records keep their row and can be restored."""

    deleted_at: so.Mapped[datetime | None]

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def str_enum(values: type[enum.Enum], name: str) -> sa.Enum:
    """A VARCHAR + named CHECK column type holding the values of a Python enum.

    Not a native PostgreSQL ENUM: adding a value is then a plain migration.
    """
    return sa.Enum(
        values,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
        length=max(len(m.value) for m in values),
    )
