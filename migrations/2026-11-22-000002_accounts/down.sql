DROP TABLE mastodon_apps;
DROP TABLE oauth_states;
DROP TABLE social_accounts;
