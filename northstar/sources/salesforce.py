"""Salesforce: Lead and Opportunity records -> leads (one row per stage change).

Shapes: a REST query response `{"totalSize": .., "done": true, "records": [{"attributes": {"type": "Lead"}, ...}]}`
(GET /services/data/vXX.X/query?q=SELECT ...), or a CSV export of the same fields (Data Loader, Bulk API, or
Workbench: API field names as the header, in any case; `ConvertedOpportunity.StageName`-style columns for
relationship fields). A file holds Leads or Opportunities.

Lead records: lead_id = the Lead Id; user_id = the custom field User_Id__c when set, else the Lead Id (the website
must send that same id as its user_id). Rows: the lead's creation (stage lead, at CreatedDate); its Status
history when the query has the LeadHistory subquery `(SELECT Field, NewValue, CreatedDate FROM Histories)`, else its
current Status (at ConvertedDate when converted, else at LastModifiedDate). When the query also selects the
converted opportunity's fields (`ConvertedOpportunity.StageName, .IsWon, .IsClosed, .Amount, .CloseDate,
.CreatedDate, .CurrencyIsoCode, .LastModifiedDate`), the opportunity's rows belong to the lead: its creation
(opportunity, at its CreatedDate) and its current StageName (a closed one at its CloseDate, but not later than its
LastModifiedDate), with Amount and CurrencyIsoCode.
Opportunity records (opportunities that did not come from a lead, e.g. `WHERE Id NOT IN (SELECT
ConvertedOpportunityId FROM Lead WHERE IsConverted = true)`): each is a lead of its own, lead_id = the Opportunity
Id, user_id = User_Id__c. Rows from the OpportunityHistory subquery `(SELECT StageName, Amount, CreatedDate FROM
OpportunityHistories)` when present, else creation + current StageName as above.
StageName values the seed does not list: IsWon = true -> won; IsClosed = true and IsWon = false -> lost; an open
stage the seed does not know is quarantined (unmapped_stage:StageName=<value>). LeadSource goes to extra.
"""

from __future__ import annotations

import duckdb

from northstar.sources import _crm
from northstar.sources.base import Peek, Source, SourceFile
from northstar.sources.sql import lit

_OPP_FIELDS = [
    "Id",
    "StageName",
    "IsWon",
    "IsClosed",
    "Amount",
    "CloseDate",
    "CreatedDate",
    "LastModifiedDate",
    "CurrencyIsoCode",
    "LeadSource",
    "User_Id__c",
]
_LEAD_FIELDS = [
    "Id",
    "Status",
    "LeadSource",
    "CreatedDate",
    "LastModifiedDate",
    "ConvertedDate",
    "IsConverted",
    "ConvertedOpportunityId",
    "CurrencyIsoCode",
    "User_Id__c",
]
_TYPES = {"Lead", "Opportunity"}


def _records(p: Peek) -> list[dict]:
    """The first records: of the document, or of a response saved on one line (read as JSON Lines)."""
    if p.fmt == "jsonl" and p.records and isinstance(p.records[0].get("records"), list):
        return [r for r in p.records[0]["records"][:20] if isinstance(r, dict)]
    if p.fmt == "json" and "records" in p.document_keys:
        return p.records
    return []


def _object(p: Peek) -> str | None:
    """'Lead' or 'Opportunity' (from the records' attributes.type, or a CSV's columns)."""
    if p.fmt == "csv":
        k = p.keys
        if not {"id", "createddate"} <= k:
            return None
        if "stagename" in k and {"iswon", "isclosed"} & k:
            return "Opportunity"
        if "status" in k and {"isconverted", "convertedopportunityid", "converteddate"} & k:
            return "Lead"
        return None
    types = {(r.get("attributes") or {}).get("type") for r in _records(p)}
    return types.pop() if len(types) == 1 and types <= _TYPES else None


def looks_like(p: Peek) -> bool:
    return _object(p) is not None


def _b(expr: str) -> str:
    return f"try_cast({expr} as boolean)"


def _won_lost(o: str) -> str:
    """The rule for a StageName the seed does not list: IsWon / IsClosed decide, else unknown (NULL)."""
    won, closed = _b(f"{o} ->> 'IsWon'"), _b(f"{o} ->> 'IsClosed'")
    return f"case when {won} then 'won' when {closed} and not {won} then 'lost' end"


def _closed_at(o: str) -> str:
    """A closed opportunity's close time: CloseDate, but not after LastModifiedDate (a forecast left in place)."""
    close, modified = _crm.ts(f"{o} ->> 'CloseDate'"), _crm.ts(f"{o} ->> 'LastModifiedDate'")
    return (
        f"case when try_cast({close} as timestamptz) > try_cast({modified} as timestamptz) "
        f"then {modified} else {close} end"
    )


def _opportunity_rows(o: str, opp_id: str, lead_id: str, user_id: str, hist: bool) -> str:
    """Rows of one opportunity object `o`: its history entries (hist) or creation + current stage."""
    track = "opportunity"
    common = f"""{lead_id} as lead_id, {user_id} as user_id, {o} ->> 'CurrencyIsoCode' as currency,
        json_object('salesforce_object', 'Opportunity', 'opportunity_id', {opp_id},
                    'lead_source', {o} ->> 'LeadSource', 'stage_name', {o} ->> 'StageName') as extra"""
    raw = f"""json_object('Id', {opp_id}, 'StageName', {o} ->> 'StageName', 'IsWon', {o} ->> 'IsWon',
        'IsClosed', {o} ->> 'IsClosed', 'CreatedDate', {o} ->> 'CreatedDate',
        'CloseDate', {o} ->> 'CloseDate')::varchar"""
    created = _crm.ts(f"{o} ->> 'CreatedDate'")
    if hist:
        return f"""
        select rec_no, {lit(track)} as track, row_number() over (partition by rec_no order by e ->> 'CreatedDate')
                   as sub, 'opportunity' as object, 'StageName' as field, e ->> 'StageName' as value,
               case when (e ->> 'StageName') = ({o} ->> 'StageName') then {_won_lost(o)} end as fallback_stage,
               {_crm.ts("e ->> 'CreatedDate'")} as changed_at, e ->> 'Amount' as deal_value, {common},
               json_object('OpportunityId', {o} ->> 'Id', 'StageName', e ->> 'StageName',
                           'CreatedDate', e ->> 'CreatedDate', 'Amount', e ->> 'Amount')::varchar as raw_text
        from (select rec_no, rec, unnest(json_extract(rec, '$.OpportunityHistories.records[*]')) as e from recs)"""
    return f"""
        select rec_no, {lit(track)} as track, 0 as sub, 'opportunity' as object, 'StageName' as field,
               '(opportunity created)' as value, 'opportunity' as preset_stage, {created} as changed_at,
               {o} ->> 'Amount' as deal_value, {common}, {raw} as raw_text
        from recs where {o} is not null and json_type({o}) = 'OBJECT'
        union all by name
        select rec_no, {lit(track)} as track, 1 as sub, 'opportunity' as object, 'StageName' as field,
               {o} ->> 'StageName' as value, {_won_lost(o)} as fallback_stage, {created} as changed_at,
               {_closed_at(o)} as changed_at_closed, {o} ->> 'Amount' as deal_value, {common}, {raw} as raw_text
        from recs where {o} is not null and json_type({o}) = 'OBJECT'"""


def _stage_leads(con: duckdb.DuckDBPyConnection) -> None:
    user = "coalesce(nullif(trim(rec ->> 'User_Id__c'), ''), rec ->> 'Id')"
    common = f"""rec ->> 'Id' as lead_id, {user} as user_id,
        json_object('salesforce_object', 'Lead', 'lead_source', rec ->> 'LeadSource', 'status', rec ->> 'Status',
                    'converted_opportunity_id', rec ->> 'ConvertedOpportunityId') as extra,
        'lead' as track, 'lead' as object, 'Status' as field"""
    raw = """json_object('Id', rec ->> 'Id', 'Status', rec ->> 'Status', 'CreatedDate', rec ->> 'CreatedDate',
        'ConvertedDate', rec ->> 'ConvertedDate', 'LeadSource', rec ->> 'LeadSource')::varchar"""
    converted = _b("rec ->> 'IsConverted'")
    current_at = _crm.ts(
        f"case when {converted} and rec ->> 'ConvertedDate' is not null then rec ->> 'ConvertedDate'"
        " else coalesce(rec ->> 'LastModifiedDate', rec ->> 'CreatedDate') end"
    )
    con.execute(
        f"""insert into _ns_crm_changes by name
        with recs as (select rec_no, rec from _ns_crm_recs where rec is not null),
        status_history as (
            select rec_no, rec, e from (
                select rec_no, rec, unnest(json_extract(rec, '$.Histories.records[*]')) as e from recs
            ) where (e ->> 'Field') = 'Status'
        )
        -- the lead's creation
        select rec_no, 0 as sub, '(lead created)' as value, 'lead' as preset_stage,
               {_crm.ts("rec ->> 'CreatedDate'")} as changed_at, {common}, {raw} as raw_text
        from recs
        union all by name
        -- its Status history (LeadHistory)
        select rec_no, row_number() over (partition by rec_no order by e ->> 'CreatedDate') as sub,
               e ->> 'NewValue' as value, {_crm.ts("e ->> 'CreatedDate'")} as changed_at, {common},
               json_object('LeadId', rec ->> 'Id', 'Field', 'Status', 'NewValue', e ->> 'NewValue',
                           'CreatedDate', e ->> 'CreatedDate')::varchar as raw_text
        from status_history
        union all by name
        -- else its current Status
        select rec_no, 1 as sub, rec ->> 'Status' as value, {current_at} as changed_at, {common}, {raw} as raw_text
        from recs
        where rec_no not in (select rec_no from status_history) and nullif(trim(rec ->> 'Status'), '') is not null
        union all by name
        {
            _opportunity_rows(
                "(rec -> 'ConvertedOpportunity')",
                "coalesce(rec ->> '$.ConvertedOpportunity.Id', rec ->> 'ConvertedOpportunityId')",
                "rec ->> 'Id'",
                user,
                hist=False,
            )
        }"""
    )


def _stage_opportunities(con: duckdb.DuckDBPyConnection) -> None:
    user = "nullif(trim(rec ->> 'User_Id__c'), '')"
    con.execute(
        f"""insert into _ns_crm_changes by name
        with recs as (select rec_no, rec from _ns_crm_recs where rec is not null),
        with_history as (
            select * from recs where coalesce(json_array_length(rec, '$.OpportunityHistories.records'), 0) > 0
        ),
        without as (select * from recs where rec_no not in (select rec_no from with_history))
        select * from (
            with recs as (select * from with_history)
            {_opportunity_rows("rec", "rec ->> 'Id'", "rec ->> 'Id'", user, hist=True)}
        )
        union all by name
        select * from (
            with recs as (select * from without)
            {_opportunity_rows("rec", "rec ->> 'Id'", "rec ->> 'Id'", user, hist=False)}
        )"""
    )


def stage(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    _crm.load_mapping(con, "salesforce")
    obj = _object(f.peek)
    if f.peek.fmt == "csv":
        if obj == "Opportunity":
            _crm.read_csv_records(con, f, _OPP_FIELDS, {})
        else:
            _crm.read_csv_records(con, f, _LEAD_FIELDS, {"ConvertedOpportunity": _OPP_FIELDS})
    else:
        _crm.read_document(con, f, "records")
    _crm.create_changes(con)
    if obj == "Opportunity":
        _stage_opportunities(con)
    else:
        _stage_leads(con)
    _crm.finish(con, f)


SOURCE = Source(
    name="salesforce",
    kind="leads",
    title="Salesforce Leads / Opportunities (REST query or CSV export)",
    shapes=(
        'REST query response {"totalSize": .., "records": [...]} of Lead (optionally with the Histories subquery'
        " and ConvertedOpportunity.* fields) or of Opportunity (optionally with OpportunityHistories)",
        "CSV export (Data Loader / Bulk API) of Lead (Id, Status, CreatedDate, IsConverted, ...) or Opportunity"
        " (Id, StageName, IsWon, IsClosed, Amount, CloseDate, CreatedDate, ...) with API field names",
    ),
    looks_like=looks_like,
    stage=stage,
    order=40,
)
