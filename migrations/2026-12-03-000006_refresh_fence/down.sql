ALTER TABLE social_accounts RESET (fillfactor);
ALTER TABLE social_accounts
    DROP COLUMN refresh_lease_until,
    DROP COLUMN refresh_fence;
