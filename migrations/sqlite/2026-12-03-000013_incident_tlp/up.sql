-- The Traffic Light Protocol 2.0 marking of what is shared about an incident (STIX and MISP exports);
-- officers change it. AMBER+STRICT (the reporting organisation only) until they do.
ALTER TABLE incidents ADD COLUMN tlp TEXT NOT NULL DEFAULT 'amber+strict';
