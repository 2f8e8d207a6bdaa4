-- 003: the picture a plate camera took with its read, kept by the camera's driver, referenced by the decision.
ALTER TABLE decisions ADD COLUMN snapshot TEXT;   -- path relative to the camera's snapshot_dir
