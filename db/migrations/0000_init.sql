CREATE TABLE `actions` (
	`key` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`result` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alerts` (
	`id` text PRIMARY KEY NOT NULL,
	`handler_id` text,
	`kind` text NOT NULL,
	`run_id` text NOT NULL,
	`group_key` text NOT NULL,
	`count` integer NOT NULL,
	`ref` text,
	`state` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alerts_group` ON `alerts` (`handler_id`,`group_key`,`created_at`);--> statement-breakpoint
CREATE INDEX `alerts_run` ON `alerts` (`run_id`);--> statement-breakpoint
CREATE TABLE `flow_versions` (
	`name` text NOT NULL,
	`version` integer NOT NULL,
	`definition` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`name`, `version`)
);
--> statement-breakpoint
CREATE TABLE `flows` (
	`name` text PRIMARY KEY NOT NULL,
	`latest_version` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `handlers` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`config` text NOT NULL,
	`match` text,
	`enabled` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`handler_id` text,
	`kind` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`next_attempt_at` integer,
	`last_error` text,
	`response` text,
	`created_at` integer NOT NULL,
	`delivered_at` integer
);
--> statement-breakpoint
CREATE INDEX `outbox_due` ON `outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `outbox_run` ON `outbox` (`run_id`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`flow` text NOT NULL,
	`flow_version` integer NOT NULL,
	`status` text NOT NULL,
	`input` text,
	`output` text,
	`error` text,
	`cursor` text NOT NULL,
	`due_at` integer,
	`lease_until` integer,
	`replay_of` text,
	`external` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `runs_due` ON `runs` (`status`,`due_at`);--> statement-breakpoint
CREATE INDEX `runs_flow` ON `runs` (`flow`,`id`);--> statement-breakpoint
CREATE INDEX `runs_status` ON `runs` (`status`,`id`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `silences` (
	`id` text PRIMARY KEY NOT NULL,
	`flow` text,
	`step` text,
	`error_type` text,
	`ends_at` integer NOT NULL,
	`created_by` text,
	`comment` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `step_attempts` (
	`run_id` text NOT NULL,
	`step` text NOT NULL,
	`attempt` integer NOT NULL,
	`phase` text NOT NULL,
	`status` text NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`duration_ms` integer,
	`output` text,
	`error` text,
	PRIMARY KEY(`run_id`, `step`, `attempt`)
);
