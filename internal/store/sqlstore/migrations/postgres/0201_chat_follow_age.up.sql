-- Followers-only chat's minimum follow age, in seconds (0: any follower). The chat hub caps
-- it (chat.MaxMinFollowAge); the schema only refuses negative values.
ALTER TABLE chat_settings ADD COLUMN min_follow_seconds INTEGER NOT NULL DEFAULT 0 CHECK (min_follow_seconds >= 0);
