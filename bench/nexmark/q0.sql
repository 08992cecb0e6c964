-- Nexmark q0, pass-through: every bid, unchanged (measures the source → sink path).
-- relations: bid
SELECT auction, bidder, price, date_time, extra FROM bid
