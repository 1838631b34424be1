CREATE INDEX `actions_run` ON `actions` (`run_id`);--> statement-breakpoint
CREATE INDEX `alerts_following` ON `alerts` (`updated_at`) WHERE json_extract("alerts"."state", '$.activity.phase') = 'running';--> statement-breakpoint
CREATE INDEX `alerts_open` ON `alerts` (`created_at`) WHERE "alerts"."ref" is not null and coalesce(json_extract("alerts"."state", '$.closed'), 0) = 0 and coalesce(json_extract("alerts"."state", '$.keep_open'), 0) = 0;--> statement-breakpoint
CREATE INDEX `runs_flow_status` ON `runs` (`flow`,`status`,`id`);