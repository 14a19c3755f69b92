-- Each device's delivered position: its 'waiting' events at or below it were delivered. An ack
-- moves it instead of updating every row it covers (a new row version and index entries per event).
-- 'done' stays for rows a replay names and rows acked before this migration.
CREATE TABLE delivered (
  mac text PRIMARY KEY,
  pos bigint NOT NULL
);
