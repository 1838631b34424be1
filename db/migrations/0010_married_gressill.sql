ALTER TABLE `silences` ADD `run_id` text;--> statement-breakpoint
-- Backfill: muteRun wrote the run in the comment ("Muted from run <id>[ until it is resolved]").
UPDATE `silences` SET `run_id` = coalesce(`until_resolved`, nullif(CASE
    WHEN instr(substr(`comment`, 16), ' ') > 0 THEN substr(`comment`, 16, instr(substr(`comment`, 16), ' ') - 1)
    ELSE substr(`comment`, 16) END, ''))
  WHERE `until_resolved` IS NOT NULL OR substr(`comment`, 1, 15) = 'Muted from run ';
