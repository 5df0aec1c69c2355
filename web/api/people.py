"""Contacts (list, get, update), customers (create, list, get, update) and agents
(create, list, get, update, deactivate). An agent's ``external_id`` is the ``userId`` of
the ``003_…`` family."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g
from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import Conflict, InputError, NotFound
from pipeline.store import agents, contacts, customers, directory, rows
from web import serialize
from web.auth import require
from web.db import get_conn
from web.envelopes import ok, pagination
from web.openapi import Address, Id, PageQuery, answers, native


def blueprint() -> Blueprint:
    bp = Blueprint("people", __name__, url_prefix="/api")
    bp.get("/contacts")(list_contacts)
    bp.get("/contacts/<int:contact_id>")(get_contact)
    bp.patch("/contacts/<int:contact_id>")(update_contact)
    bp.get("/customers")(list_customers)
    bp.post("/customers")(create_customer)
    bp.get("/customers/<int:customer_id>")(get_customer)
    bp.put("/customers/<int:customer_id>")(update_customer)
    bp.patch("/customers/<int:customer_id>")(update_customer)
    bp.get("/agents")(list_agents)
    bp.post("/agents")(create_agent)
    bp.get("/agents/<int:agent_id>")(get_agent)
    bp.put("/agents/<int:agent_id>")(update_agent)
    bp.patch("/agents/<int:agent_id>")(update_agent)
    bp.post("/agents/<int:agent_id>/deactivate")(deactivate_agent)
    return bp


class ContactQuery(PageQuery):
    q: str | None = Field(None, min_length=1, max_length=200)
    customer_id: Id | None = None


class ContactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    customer_id: Id | None = None


class CustomerQuery(PageQuery):
    q: str | None = Field(None, min_length=1, max_length=200)


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: Address | None = None
    external_ref: str | None = Field(None, max_length=200)


class CustomerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    email: Address | None = None
    external_ref: str | None = Field(None, max_length=200)


class AgentQuery(PageQuery):
    is_active: bool | None = None


class AgentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Address
    name: str = Field(min_length=1, max_length=200)
    external_id: str | None = Field(None, min_length=1, max_length=200)


class AgentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Address | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    external_id: str | None = Field(None, min_length=1, max_length=200)
    is_active: bool | None = None


def listed(found: tuple[list[dict[str, Any]], int], query: PageQuery, shape) -> Any:
    items, total = found
    return ok([shape(r) for r in items], pagination=pagination(query.page, query.per_page, total))


def load(table: str, row_id: int, what: str) -> dict[str, Any]:
    row = rows.get(get_conn(), table, g.org_id, row_id)
    if row is None:
        raise NotFound(f"{what} not found")
    return row


def non_null(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    for name in names:
        if name in values and values[name] is None:
            raise InputError(f"{name}: may not be null", name, 422)
    return values


def check_customer(customer_id: int | None) -> None:
    if customer_id is not None and not rows.exists(get_conn(), "customers", g.org_id, customer_id):
        raise NotFound("Customer not found", "customer_id")


@require("read")
@native(query=ContactQuery, resp=answers(), tags=["contacts"])
def list_contacts(query: ContactQuery):
    found = directory.list_contacts(
        get_conn(), g.org_id, query.page, query.per_page, query.q, query.customer_id
    )
    return listed(found, query, serialize.contact)


@require("read")
@native(resp=answers(404), tags=["contacts"])
def get_contact(contact_id: int):
    return ok(serialize.contact(load("contacts", contact_id, "Contact")))


@require("write")
@native(json=ContactPatch, resp=answers(404), tags=["contacts"])
def update_contact(contact_id: int, json: ContactPatch):
    load("contacts", contact_id, "Contact")
    check_customer(json.customer_id)
    values = json.model_dump(exclude_unset=True)
    row = contacts.update(get_conn(), g.org_id, contact_id, values)
    return ok(serialize.contact(row))


@require("read")
@native(query=CustomerQuery, resp=answers(), tags=["customers"])
def list_customers(query: CustomerQuery):
    found = directory.list_customers(get_conn(), g.org_id, query.page, query.per_page, query.q)
    return listed(found, query, serialize.customer)


@require("write")
@native(json=CustomerCreate, resp=answers(ok=201), tags=["customers"])
def create_customer(json: CustomerCreate):
    row = customers.create(get_conn(), g.org_id, json.model_dump())
    return ok(serialize.customer(row), 201)


@require("read")
@native(resp=answers(404), tags=["customers"])
def get_customer(customer_id: int):
    return ok(serialize.customer(load("customers", customer_id, "Customer")))


@require("write")
@native(json=CustomerPatch, resp=answers(404), tags=["customers"])
def update_customer(customer_id: int, json: CustomerPatch):
    load("customers", customer_id, "Customer")
    values = non_null(json.model_dump(exclude_unset=True), ("name",))
    row = customers.update(get_conn(), g.org_id, customer_id, values)
    return ok(serialize.customer(row))


@require("read")
@native(query=AgentQuery, resp=answers(), tags=["agents"])
def list_agents(query: AgentQuery):
    found = directory.list_agents(get_conn(), g.org_id, query.page, query.per_page, query.is_active)
    return listed(found, query, serialize.agent)


def check_agent_unique(values: dict[str, Any], except_id: int | None = None) -> None:
    taken = directory.agent_conflict(get_conn(), g.org_id, values, except_id)
    if taken:
        raise Conflict(f"Another agent has this {taken}", taken)


@require("write")
@native(json=AgentCreate, resp=answers(409, ok=201), tags=["agents"])
def create_agent(json: AgentCreate):
    values = {**json.model_dump(), "email": str(json.email).lower()}
    check_agent_unique(values)
    row = agents.create(get_conn(), g.org_id, values)
    return ok(serialize.agent(row), 201)


@require("read")
@native(resp=answers(404), tags=["agents"])
def get_agent(agent_id: int):
    return ok(serialize.agent(load("agents", agent_id, "Agent")))


@require("write")
@native(json=AgentPatch, resp=answers(404, 409), tags=["agents"])
def update_agent(agent_id: int, json: AgentPatch):
    load("agents", agent_id, "Agent")
    values = non_null(json.model_dump(exclude_unset=True), ("email", "name", "is_active"))
    if values.get("email"):
        values["email"] = str(values["email"]).lower()
    check_agent_unique(values, agent_id)
    row = agents.update(get_conn(), g.org_id, agent_id, values)
    return ok(serialize.agent(row))


@require("write")
@native(resp=answers(404), tags=["agents"])
def deactivate_agent(agent_id: int):
    row = agents.update(get_conn(), g.org_id, agent_id, {"is_active": False})
    if row is None:
        raise NotFound("Agent not found")
    return ok(serialize.agent(row))
