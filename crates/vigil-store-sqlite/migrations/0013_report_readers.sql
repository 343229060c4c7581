-- Who reported each report: the pseudonym of the RIS's identifier of the
-- reporting clinician (HL7 OBR-32, FHIR DiagnosticReport.resultsInterpreter),
-- keyed with the Trust's key like the accession number, for workload per
-- reader in the productivity audit. Empty when the RIS does not say.
ALTER TABLE report_times ADD COLUMN reader TEXT;
