-- When an event last stopped being public (made internal, or back to draft). A feed loses the
-- event then, and its Last-Modified must say so; the event's own updated_at cannot, since it
-- also moves on later edits of the now non-public event, which must not show in public feeds.
ALTER TABLE events ADD COLUMN left_public_at timestamptz;

CREATE FUNCTION events_left_public() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.visibility = 'public' AND OLD.status <> 'draft'
       AND NOT (NEW.visibility = 'public' AND NEW.status <> 'draft') THEN
        NEW.left_public_at := now();
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_left_public BEFORE UPDATE OF visibility, status ON events
    FOR EACH ROW EXECUTE FUNCTION events_left_public();
