"""Request schemas of the categories API: categories and their ordered rules."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from web.openapi import PageQuery

Color = Field(None, pattern=r"^#[0-9A-Fa-f]{6}$")
Position = Field(None, ge=0, le=1_000_000)


class CategoryListQuery(BaseModel):
    include_rules: bool = False
    include_stats: bool = False
    active_only: bool = True


class CategoryEmailsQuery(PageQuery):
    pass


class CategoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    slug: str | None = Field(None, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=100)
    description: str | None = Field(None, max_length=1000)
    color: str | None = Color
    is_active: bool = True
    position: int | None = Position


class CategoryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    slug: str | None = Field(None, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=100)
    description: str | None = Field(None, max_length=1000)
    color: str | None = Color
    is_active: bool | None = None
    position: int | None = Position


RuleField = Literal["from", "to", "subject", "body", "header"]
Operator = Literal["contains", "equals", "regex", "domain"]


def rule_problem(
    field: str | None, header_name: str | None, operator: str | None, value: str | None
) -> tuple[str, str] | None:
    """``(field name, problem)`` for a rule that could never be evaluated, else ``None``."""
    if field == "header" and not header_name:
        return "header_name", "header_name is required when field is 'header'"
    if operator == "regex" and value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            return "value", f"value is not a valid regular expression: {exc}"
    return None


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: RuleField
    operator: Operator
    header_name: str | None = Field(None, pattern=r"^[!-9;-~]{1,100}$", validate_default=True)
    value: str = Field(min_length=1, max_length=1000)
    labels: list[str] = Field(default_factory=list, max_length=50)
    stop_processing: bool = False
    is_active: bool = True
    position: int | None = Position

    @field_validator("labels")
    @classmethod
    def labels_are_short(cls, labels: list[str]) -> list[str]:
        if any(not 1 <= len(label) <= 100 for label in labels):
            raise ValueError("each label must have 1 to 100 characters")
        return labels

    @field_validator("header_name", "value")
    @classmethod
    def evaluable(cls, value: str | None, info: ValidationInfo) -> str | None:
        data = {**info.data, info.field_name: value}
        problem = rule_problem(
            data.get("field"), data.get("header_name"), data.get("operator"), data.get("value")
        )
        if problem and problem[0] == info.field_name:
            raise ValueError(problem[1])
        return value


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: RuleField | None = None
    header_name: str | None = Field(None, pattern=r"^[!-9;-~]{1,100}$")
    operator: Operator | None = None
    value: str | None = Field(None, min_length=1, max_length=1000)
    labels: list[str] | None = Field(None, max_length=50)
    stop_processing: bool | None = None
    is_active: bool | None = None
    position: int | None = Position

    @field_validator("labels")
    @classmethod
    def labels_are_short(cls, labels: list[str] | None) -> list[str] | None:
        return None if labels is None else RuleCreate.labels_are_short(labels)
