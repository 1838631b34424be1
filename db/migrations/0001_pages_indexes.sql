CREATE INDEX `runs_created` ON `runs` (`created_at`,`flow`,`status`);--> statement-breakpoint
CREATE INDEX `runs_replay_of` ON `runs` (`replay_of`) WHERE replay_of is not null;