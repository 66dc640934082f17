"""The OpenAPI document's operation ids are a contract: generated clients name their
methods by them, so moving a view between apps must not rename its operation."""

from __future__ import annotations

from jengu.api import api

PUBLISHED_OPERATION_IDS = {
    ("GET", "/api/v1/campaigns"): "crm_api_campaigns_list_campaigns",
    ("POST", "/api/v1/campaigns"): "crm_api_campaigns_create_campaign",
    ("GET", "/api/v1/campaigns/{campaign_id}"): "crm_api_campaigns_get_campaign",
    ("PATCH", "/api/v1/campaigns/{campaign_id}"): "crm_api_campaigns_patch_campaign",
    ("POST", "/api/v1/campaigns/{campaign_id}/enroll"): "crm_api_campaigns_enroll",
    ("GET", "/api/v1/campaigns/{campaign_id}/stats"): "crm_api_campaigns_stats",
    ("GET", "/api/v1/inboxes"): "crm_api_inboxes_list_inboxes",
    ("POST", "/api/v1/inboxes"): "crm_api_inboxes_create_inbox",
    ("GET", "/api/v1/inboxes/{inbox_id}"): "crm_api_inboxes_get_inbox",
    ("PATCH", "/api/v1/inboxes/{inbox_id}"): "crm_api_inboxes_patch_inbox",
    ("GET", "/api/v1/metrics/summary"): "crm_api_metrics_summary",
    ("GET", "/api/v1/prospects"): "crm_api_prospects_list_prospects",
    ("POST", "/api/v1/prospects"): "crm_api_prospects_create_prospect",
    ("POST", "/api/v1/prospects/bulk"): "crm_api_prospects_bulk_upsert",
    ("GET", "/api/v1/prospects/{prospect_id}"): "crm_api_prospects_get_prospect",
    ("PATCH", "/api/v1/prospects/{prospect_id}"): "crm_api_prospects_patch_prospect",
    ("DELETE", "/api/v1/prospects/{prospect_id}"): "crm_api_prospects_delete_prospect",
    ("POST", "/api/v1/prospects/{prospect_id}/enrich"): "crm_api_prospects_enrich",
    ("GET", "/api/v1/messages"): "outreach_api_list_messages",
    ("GET", "/api/v1/messages/{message_id}"): "outreach_api_get_message",
    ("GET", "/api/v1/traces/{trace_id}"): "jengu_events_api_get_trace",
    ("GET", "/api/v1/dead-letters"): "jengu_events_api_list_dead_letters",
    ("GET", "/api/v1/dead-letters/{dead_letter_id}"): "jengu_events_api_get_dead_letter",
    ("POST", "/api/v1/dead-letters/{dead_letter_id}/requeue"): "jengu_events_api_requeue",
    ("POST", "/api/v1/dead-letters/{dead_letter_id}/discard"): "jengu_events_api_discard",
}


def test_published_operations_keep_their_ids():
    paths = api.get_openapi_schema()["paths"]
    found = {
        (method.upper(), path): operation["operationId"]
        for path, item in paths.items()
        for method, operation in item.items()
    }
    missing = {key: name for key, name in PUBLISHED_OPERATION_IDS.items() if found.get(key) != name}
    assert not missing, f"renamed or removed operations: {missing}"
