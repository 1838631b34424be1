-- Full-text search over run inputs for the pages' `q` (docs/pages.md): an external-content FTS5
-- index on runs.input keyed by the runs' rowid, kept by triggers. Inputs never change after insert.
CREATE VIRTUAL TABLE `runs_fts` USING fts5(input, content='runs', content_rowid='rowid');
--> statement-breakpoint
CREATE TRIGGER `runs_fts_insert` AFTER INSERT ON `runs` BEGIN
  INSERT INTO runs_fts(rowid, input) VALUES (new.rowid, new.input);
END;
--> statement-breakpoint
CREATE TRIGGER `runs_fts_delete` AFTER DELETE ON `runs` BEGIN
  INSERT INTO runs_fts(runs_fts, rowid, input) VALUES ('delete', old.rowid, old.input);
END;
--> statement-breakpoint
CREATE TRIGGER `runs_fts_update` AFTER UPDATE OF `input` ON `runs` BEGIN
  INSERT INTO runs_fts(runs_fts, rowid, input) VALUES ('delete', old.rowid, old.input);
  INSERT INTO runs_fts(rowid, input) VALUES (new.rowid, new.input);
END;
--> statement-breakpoint
INSERT INTO runs_fts(runs_fts) VALUES ('rebuild');
