-- Nexmark q7, highest bid: the bids with the highest price of each 10-second window (a join
-- of the bids with their window's maximum, bounded by the window).
-- relations: bid
SELECT B.auction, B.price, B.bidder, B.date_time, B.extra
FROM bid AS B
JOIN (
    SELECT max(price) AS maxprice, window_end AS date_time
    FROM tumble(bid, date_time, INTERVAL '10 seconds')
    GROUP BY window_start, window_end
) AS B1 ON B.price = B1.maxprice
WHERE B.date_time BETWEEN B1.date_time - INTERVAL '10 seconds' AND B1.date_time
