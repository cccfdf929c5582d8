-- API.md v1.1 "Highlights, editions and regions".
-- The week's highlights (亮点), named in the year's report.
ALTER TABLE events ADD COLUMN highlight boolean NOT NULL DEFAULT false;
-- The administrative division (GB/T 2260, six digits) a campaign is held in: editions of the
-- same week in one place share it; a province or prefecture sums the codes under its own.
ALTER TABLE campaigns ADD COLUMN region_code text
    CONSTRAINT campaigns_region_code_check CHECK (region_code ~ '^[0-9]{6}$');
-- Trends (same code, earlier years) and regional sums (code prefix, one year).
CREATE INDEX campaigns_region_code_year ON campaigns (region_code text_pattern_ops, year);
