DROP INDEX campaigns_region_code_year;
ALTER TABLE campaigns DROP COLUMN region_code;
ALTER TABLE events DROP COLUMN highlight;
