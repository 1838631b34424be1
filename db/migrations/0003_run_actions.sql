CREATE TABLE `action_claims` (
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`answer` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`scope`, `key`)
);
--> statement-breakpoint
CREATE INDEX `action_claims_created` ON `action_claims` (`created_at`);--> statement-breakpoint
ALTER TABLE `runs` ADD `acked_by` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `acked_at` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `resolved_by` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `resolved_at` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `resolution_note` text;--> statement-breakpoint
ALTER TABLE `silences` ADD `until_resolved` text;