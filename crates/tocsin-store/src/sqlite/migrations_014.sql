-- Follow-ups (kind `acknowledged` or `resolved`) say who changed the incident and what they
-- wrote; `created_at` is when.
ALTER TABLE notifications ADD COLUMN actor TEXT;
ALTER TABLE notifications ADD COLUMN comment TEXT;
