ALTER TABLE `handlers` ADD `fallback` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `outbox_handler` ON `outbox` (`handler_id`,`created_at`);