DROP TABLE post_attempts;
DROP TABLE post_targets;
DROP TABLE posts;
DROP TABLE drafts;
DROP TABLE media;
