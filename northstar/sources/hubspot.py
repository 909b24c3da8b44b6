"""HubSpot CRM: contacts (lifecycle stage history) and deals (deal stage, amount, close date) -> leads.

Shapes: a CRM API v3 response `{"results": [...], "paging": {...}}` of contacts or of deals (GET
/crm/v3/objects/contacts?properties=...&propertiesWithHistory=lifecyclestage,hs_lead_status, /crm/v3/objects/deals
?...&associations=contacts), or the same objects one per line (JSON Lines, as connectors write them; Airbyte's
deals carry `contacts: [ids]` instead of `associations`). A file holds contacts or deals: deals when its records
have a dealstage or associated contacts.

Contacts: lead_id = the contact id; user_id = the contact's custom property `user_id` when set, else the contact
id (the website must send that same id as its user_id). Stage changes come from propertiesWithHistory of every
contact field the seed lists (lifecyclestage, hs_lead_status); without history, from the stage date properties
(hs_lifecyclestage_<stage>_date, hs_v2_date_entered_<stage>); without those, the current lifecyclestage at the
contact's createdate.
Deals: lead_id = the first associated contact; user_id = the deal's custom property `user_id` when set, else empty
(the contact's rows carry it). Stage changes come
from propertiesWithHistory.dealstage, else hs_v2_date_entered_<stage> / hs_date_entered_<stage>, else the deal's
creation (opportunity, at createdate) and its current dealstage (at createdate; a closed one at its closedate,
but not later than the deal's last change: a close date left in the future is a forecast nobody corrected).
deal_value / currency = amount / deal_currency_code as they were at the change (their history when present),
else their current values.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from northstar.sources import _crm
from northstar.sources.base import Peek, Source, SourceFile
from northstar.sources.sql import lit

_TOP_KEYS = {"id", "properties"}
_OBJECT_KEYS = {"createdat", "updatedat", "archived", "propertieswithhistory"}


def _is_deal(rec: dict) -> bool:
    props = rec.get("properties") or {}
    hist = rec.get("propertiesWithHistory") or {}
    assoc = rec.get("associations") or {}
    return "dealstage" in props or "dealstage" in hist or "contacts" in rec or "contacts" in assoc


def _objects(p: Peek) -> list[dict]:
    """The first CRM objects of the file: the peeked records, or the `results` of a response saved on one line
    (which the peek reads as JSON Lines of one record; several such lines are several pages)."""
    if p.fmt == "jsonl" and p.records and isinstance(p.records[0].get("results"), list):
        return [r for r in p.records[0]["results"][:20] if isinstance(r, dict)]
    if p.fmt == "json" and p.document_keys and "results" not in p.document_keys:
        return []
    return p.records if p.fmt in ("json", "jsonl") else []


def _paged(p: Peek) -> bool:
    return p.fmt == "json" or (p.fmt == "jsonl" and bool(p.records) and "results" in p.records[0])


def looks_like(p: Peek) -> bool:
    """CRM v3 objects: id + properties (an object) + createdAt/updatedAt/archived, with a stage or a stage date."""
    objs = _objects(p)
    if not objs:
        return False
    rec = objs[0]
    keys = {k.lower() for k in rec}
    if not keys >= _TOP_KEYS or not isinstance(rec["properties"], dict) or not _OBJECT_KEYS & keys:
        return False
    for r in objs:
        props = r.get("properties") or {}
        hist = r.get("propertiesWithHistory") or {}
        if {"lifecyclestage", "dealstage", "hs_lead_status"} & (set(props) | set(hist)):
            return True
        if any(k.startswith(("hs_lifecyclestage_", "hs_v2_date_entered_", "hs_date_entered_")) for k in props):
            return True
    return False


def _history(fields: list[str], obj: str, track: str) -> str:
    """One row per propertiesWithHistory entry of the given fields."""
    parts = [
        f"""select rec_no, {lit(field)} as field,
               unnest(json_extract(rec, {lit(f'$.propertiesWithHistory."{field}"[*]')})) as e
            from recs"""
        for field in fields
    ]
    body = " union all ".join(parts) if parts else "select null::bigint as rec_no, null as field, null::json as e"
    return f"""
        select rec_no, {lit(track)} as track, {lit(obj)} as object, field, nullif(trim(e ->> 'value'), '') as value,
               {_crm.ts("e ->> 'timestamp'")} as changed_at, e ->> 'sourceType' as source_type, 1 as prio
        from ({body}) where e is not null"""


def _dated(obj: str, field: str, track: str, patterns: list[str]) -> str:
    """One row per stage date property (hs_v2_date_entered_<stage> ...): the stage is in the property's name."""
    regex = "|".join(f"^{p}$" for p in patterns)
    value = "coalesce(" + ", ".join(f"nullif(regexp_extract(k, '^{p}$', 1), '')" for p in patterns) + ")"
    return f"""
        select rec_no, {lit(track)} as track, {lit(obj)} as object, {lit(field)} as field, {value} as value,
               min({_crm.ts("p ->> k")}) as changed_at, null as source_type, 2 as prio
        from (select rec_no, p, unnest(json_keys(p)) as k from recs)
        where regexp_matches(k, {lit(regex)}) and nullif(trim(p ->> k), '') is not null
        group by all"""


def _best(candidates: str) -> str:
    """Per record and field, the entries of the best kind available (history > date properties > current)."""
    return f"""
        select * from ({candidates})
        where value is not null
        qualify prio = min(prio) over (partition by rec_no, field)"""


def _stage_contacts(con: duckdb.DuckDBPyConnection) -> None:
    fields = _crm.mapped_fields(con, "contact")
    candidates = " union all ".join(
        [
            _history(fields, "contact", "contact"),
            _dated("contact", "lifecyclestage", "contact", ["hs_lifecyclestage_(.+)_date", "hs_v2_date_entered_(.+)"]),
            f"""select rec_no, 'contact', 'contact', 'lifecyclestage', nullif(trim(p ->> 'lifecyclestage'), ''),
                       {_crm.ts("coalesce(p ->> 'createdate', rec ->> 'createdAt')")}, null, 3 from recs""",
        ]
    )
    con.execute(
        f"""insert into _ns_crm_changes by name
        with recs as (select rec_no, rec, rec -> 'properties' as p from _ns_crm_recs where rec is not null),
        best as ({_best(candidates)})
        select b.rec_no, b.track, row_number() over (partition by b.rec_no order by b.changed_at) as sub, b.object,
               b.field, b.value, r.rec ->> 'id' as lead_id, b.changed_at,
               coalesce(nullif(trim(r.p ->> 'user_id'), ''), r.rec ->> 'id') as user_id,
               json_object('hubspot_object', 'contact', 'field', b.field, 'value', b.value,
                           'source_type', b.source_type) as extra,
               json_object('contact_id', r.rec ->> 'id', b.field, b.value, 'timestamp', b.changed_at)::varchar
                   as raw_text
        from best as b join recs as r using (rec_no)"""
    )


def _asof(prop: str) -> str:
    """Per change, the deal property `prop` as it was then: its history entry at or before the change."""
    path = "$.propertiesWithHistory." + prop + "[*]"
    return f"""
        select rec_no, try_cast({_crm.ts("e ->> 'timestamp'")} as timestamptz) as hist_at, e ->> 'value' as v
        from (select rec_no, unnest(json_extract(rec, {lit(path)})) as e from recs)"""


def _stage_deals(con: duckdb.DuckDBPyConnection) -> None:
    created = _crm.ts("coalesce(p ->> 'createdate', rec ->> 'createdAt')")
    candidates = " union all ".join(
        [
            _history(_crm.mapped_fields(con, "deal"), "deal", "deal"),
            _dated("deal", "dealstage", "deal", ["hs_v2_date_entered_(.+)", "hs_date_entered_(.+)"]),
            f"select rec_no, 'deal', 'deal', 'dealstage', nullif(trim(p ->> 'dealstage'), ''), {created}, null, 3"
            " from recs",
        ]
    )
    closed = _crm.ts("p ->> 'closedate'")
    modified = _crm.ts("coalesce(p ->> 'hs_lastmodifieddate', rec ->> 'updatedAt')")
    con.execute(
        f"""insert into _ns_crm_changes by name
        with recs as (select rec_no, rec, rec -> 'properties' as p from _ns_crm_recs where rec is not null),
        deals as (
            select rec_no, rec, p, rec ->> 'id' as deal_id,
                   coalesce(rec ->> '$.associations.contacts.results[0].id', rec ->> '$.contacts[0]') as contact_id,
                   {created} as created_at,
                   case when try_cast({closed} as timestamptz) > try_cast({modified} as timestamptz)
                        then {modified} else {closed} end as closed_at
            from recs
        ),
        best as ({_best(candidates)}),
        changes as (
            select b.*, null as preset_stage from best as b
            union all
            -- without any stage history: the deal's creation is the opportunity
            select rec_no, 'deal', 'deal', 'dealstage', '(deal created)', created_at, null, 3, 'opportunity'
            from deals where rec_no in (select rec_no from best where prio = 3)
        ),
        amounts as ({_asof("amount")}),
        currencies as ({_asof("deal_currency_code")}),
        has_history as (
            select rec_no, bool_or(k = 'amount') as amount_h, bool_or(k = 'deal_currency_code') as currency_h
            from (select rec_no, unnest(json_keys(rec -> 'propertiesWithHistory')) as k from recs)
            group by rec_no
        ),
        valued as (
            select c.*, a.v as amount_then, a.rec_no is not null as a_hit,
                   cu.v as currency_then, cu.rec_no is not null as c_hit
            from changes as c
            asof left join amounts as a on a.rec_no = c.rec_no and a.hist_at <= try_cast(c.changed_at as timestamptz)
            asof left join currencies as cu
                on cu.rec_no = c.rec_no and cu.hist_at <= try_cast(c.changed_at as timestamptz)
        )
        select v.rec_no, v.track, row_number() over (partition by v.rec_no order by v.changed_at, v.prio) as sub,
               v.object, v.field, v.value, v.preset_stage, d.contact_id as lead_id, v.changed_at,
               nullif(trim(d.p ->> 'user_id'), '') as user_id,
               case when v.prio = 3 then d.closed_at end as changed_at_closed,
               -- before the first history entry: the first value known (amounts are often typed just after)
               case when coalesce(h.amount_h, false) then (case when v.a_hit then v.amount_then else fa.v end)
                    else d.p ->> 'amount' end as deal_value,
               case when coalesce(h.currency_h, false) then (case when v.c_hit then v.currency_then else fc.v end)
                    else d.p ->> 'deal_currency_code' end as currency,
               json_object('hubspot_object', 'deal', 'deal_id', d.deal_id, 'pipeline', d.p ->> 'pipeline',
                           'field', v.field, 'value', v.value, 'closedate', d.p ->> 'closedate',
                           'source_type', v.source_type) as extra,
               json_object('deal_id', d.deal_id, 'contact_id', d.contact_id, v.field, v.value,
                           'timestamp', v.changed_at, 'amount', d.p ->> 'amount')::varchar as raw_text,
               case when d.contact_id is null then 'no_associated_contact' end as pre_reason
        from valued as v
        join deals as d using (rec_no)
        left join has_history as h using (rec_no)
        left join (select rec_no, arg_min(v, hist_at) as v from amounts group by rec_no) as fa using (rec_no)
        left join (select rec_no, arg_min(v, hist_at) as v from currencies group by rec_no) as fc using (rec_no)"""
    )


def stage(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    _crm.load_mapping(con, "hubspot")
    if _paged(f.peek):
        _crm.read_document(con, f, "results" if f.peek.document_keys or f.peek.fmt == "jsonl" else None)
    else:
        _crm.read_json_lines(con, f)
    _crm.create_changes(con)
    if any(_is_deal(r) for r in _objects(f.peek)):
        _stage_deals(con)
    else:
        _stage_contacts(con)
    _crm.finish(con, f)


# -- export: contract_leads -> HubSpot API documents ------------------------------------------------------------
# Rows with money (opportunity / won / lost with a deal_value or currency) become one deal per lead, the others the
# contact's lifecycle stage history (lost without money: hs_lead_status UNQUALIFIED). Values that the default seed
# maps back to the same stage.
_CONTACT_VALUES = {
    "lead": ("lifecyclestage", "lead"),
    "mql": ("lifecyclestage", "marketingqualifiedlead"),
    "sql": ("lifecyclestage", "salesqualifiedlead"),
    "opportunity": ("lifecyclestage", "opportunity"),
    "won": ("lifecyclestage", "customer"),
    "lost": ("hs_lead_status", "UNQUALIFIED"),
}
_DEAL_VALUES = {"opportunity": "appointmentscheduled", "won": "closedwon", "lost": "closedlost"}
_EXPORT_CHUNK = 50_000  # records per document


def _iso(col: str) -> str:
    return f"strftime({col}, '%Y-%m-%dT%H:%M:%S.%gZ')"


def _case(col: str, values: dict[str, str]) -> str:
    return "case " + " ".join(f"when {col} = {lit(k)} then {lit(v)}" for k, v in values.items()) + " end"


def _entry(value: str, at: str) -> str:
    return f"{{'value': {value}, 'timestamp': {_iso(at)}, 'sourceType': 'CRM_UI'}}"


def _write_chunks(con: duckdb.DuckDBPyConnection, table: str, out_dir: Path, stem: str) -> list[Path]:
    """One API document per chunk, one object per line: a document on a single line longer than the loader's first
    look (256 KB) would not be recognised."""
    files = []
    cur = con.execute(f"select cast(to_json(r) as varchar) from {table} order by k")
    while batch := cur.fetchmany(_EXPORT_CHUNK):
        path = out_dir / f"{stem}_{len(files) + 1:04d}.json"
        with path.open("w", encoding="utf-8") as fh:
            fh.write('{"results": [\n')
            fh.write(",\n".join(r[0] for r in batch))
            fh.write("\n]}\n")
        files.append(path)
    return files


def export(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """contract_leads as HubSpot CRM API documents: hubspot_contacts_*.json and hubspot_deals_*.json."""
    field = _case("stage", {k: v[0] for k, v in _CONTACT_VALUES.items()})
    value = _case("stage", {k: v[1] for k, v in _CONTACT_VALUES.items()})
    con.execute(
        f"""create or replace temp table _hs_x as
        select *, stage in ('opportunity', 'won', 'lost') and (deal_value is not null or currency is not null)
                  as on_deal,
               {field} as field, {value} as value, {_case("stage", _DEAL_VALUES)} as deal_value_name
        from contract_leads"""
    )
    con.execute(
        f"""create or replace temp table _hs_contacts as
        select lead_id as k, {{
            'id': lead_id,
            'properties': {{
                'createdate': {_iso("min(changed_at)")},
                'lifecyclestage': arg_max(value, changed_at) filter (where field = 'lifecyclestage'),
                'hs_lead_status': arg_max(value, changed_at) filter (where field = 'hs_lead_status'),
                'user_id': max(user_id),
                'hs_object_id': lead_id
            }},
            'propertiesWithHistory': {{
                'lifecyclestage': coalesce(list({_entry("value", "changed_at")} order by changed_at desc)
                                           filter (where field = 'lifecyclestage'), []),
                'hs_lead_status': coalesce(list({_entry("value", "changed_at")} order by changed_at desc)
                                           filter (where field = 'hs_lead_status'), [])
            }},
            'createdAt': {_iso("min(changed_at)")},
            'updatedAt': {_iso("max(changed_at)")},
            'archived': false
        }} as r
        from _hs_x where not on_deal group by lead_id"""
    )
    money = "coalesce(cast(deal_value as varchar), '')"
    con.execute(
        f"""create or replace temp table _hs_deals as
        select lead_id as k, {{
            'id': lead_id || '-deal',
            'properties': {{
                'dealname': 'Deal ' || lead_id,
                'pipeline': 'default',
                'dealstage': arg_max(deal_value_name, changed_at),
                'amount': cast(arg_max(deal_value, changed_at) as varchar),
                'deal_currency_code': arg_max(currency, changed_at),
                'createdate': {_iso("min(changed_at)")},
                'closedate': {_iso("max(changed_at) filter (where stage in ('won', 'lost'))")},
                'hs_lastmodifieddate': {_iso("max(changed_at)")},
                'user_id': max(user_id)
            }},
            'propertiesWithHistory': {{
                'dealstage': list({_entry("deal_value_name", "changed_at")} order by changed_at desc),
                'amount': list({_entry(money, "changed_at")} order by changed_at desc),
                'deal_currency_code': list({_entry("coalesce(currency, '')", "changed_at")} order by changed_at desc)
            }},
            'associations': {{'contacts': {{'results': [{{'id': lead_id, 'type': 'deal_to_contact'}}]}}}},
            'createdAt': {_iso("min(changed_at)")},
            'updatedAt': {_iso("max(changed_at)")},
            'archived': false
        }} as r
        from _hs_x where on_deal group by lead_id"""
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    return _write_chunks(con, "_hs_contacts", out_dir, "hubspot_contacts") + _write_chunks(
        con, "_hs_deals", out_dir, "hubspot_deals"
    )


SOURCE = Source(
    name="hubspot",
    kind="leads",
    title="HubSpot CRM contacts / deals (API v3)",
    shapes=(
        'CRM API v3 response {"results": [...]} of contacts with propertiesWithHistory.lifecyclestage'
        " (or hs_v2_date_entered_<stage> properties)",
        'CRM API v3 response {"results": [...]} of deals (dealstage, amount, closedate, associations to contacts)',
        "the same contacts or deals as JSON Lines, one object per line (as connectors write them)",
    ),
    looks_like=looks_like,
    stage=stage,
    export=export,
    order=40,
)
