"""CRM connectors' side effects: the durable inbox, the vendor clients (HubSpot through
`hubspot-api-client`, Salesforce through `simple-salesforce`), the ingest of mapped records
through Handoff's own ingest API, and the outbound sync of stage, owner and disposition."""
