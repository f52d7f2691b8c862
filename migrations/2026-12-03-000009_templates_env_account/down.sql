ALTER TABLE social_accounts DROP CONSTRAINT IF EXISTS social_accounts_env_never_refreshed;
ALTER TABLE drafts DROP COLUMN IF EXISTS template_id;
DROP INDEX IF EXISTS templates_owner_updated_idx;
DROP TABLE IF EXISTS templates;
