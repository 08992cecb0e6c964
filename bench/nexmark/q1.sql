-- Nexmark q1, currency conversion: bid prices from dollars to euros.
-- relations: bid
SELECT auction, bidder, 0.908 * price AS price, date_time, extra FROM bid
