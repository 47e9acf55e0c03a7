-- A sign-in records its dates on the account (auth.rs, at most once a
-- minute per account, from a task of its own). No kept answer shows those
-- dates, yet the stamp moved with them, so a sign-in threw away every kept
-- issue answer, and a read right after a first request could find its own
-- answer already gone. Only record_login writes these two columns, and it
-- writes nothing else, so an update that leaves them alone is any other.
DROP TRIGGER data_stamp_users_u;
CREATE TRIGGER data_stamp_users_u AFTER UPDATE ON users WHEN NEW.first_login_at IS OLD.first_login_at AND NEW.last_login_at IS OLD.last_login_at
BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
