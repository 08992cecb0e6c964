-- Nexmark q7, highest bid: the bids with the highest price of each 10-second window (a join
-- of the bids with their window's maximum, bounded by the window: the bound is in ON, on the
-- window's window_end, so the join's state is released as the watermark passes).
-- relations: bid
SELECT B.auction, B.price, B.bidder, B.date_time, B.extra
FROM bid AS B
JOIN (
    SELECT max(price) AS maxprice, window_end
    FROM tumble(bid, date_time, INTERVAL '10 seconds')
    GROUP BY window_start, window_end
) AS B1 ON B.price = B1.maxprice
    AND B.date_time BETWEEN B1.window_end - INTERVAL '10 seconds' AND B1.window_end
