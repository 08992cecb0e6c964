-- Nexmark q5, hot items: per 10-second window sliding every 2 seconds, the auctions with the
-- most bids (a windowed join of the per-auction counts with their maximum). The window columns
-- keep their names (window_start, window_end) so the join is recognized as a window join.
-- relations: bid
SELECT AuctionBids.auction, AuctionBids.num
FROM (
    SELECT auction, count(*) AS num, window_start, window_end
    FROM hop(bid, date_time, INTERVAL '2 seconds', INTERVAL '10 seconds')
    GROUP BY auction, window_start, window_end
) AS AuctionBids
JOIN (
    SELECT max(CountBids.num) AS maxn, CountBids.window_start, CountBids.window_end
    FROM (
        SELECT count(*) AS num, window_start, window_end
        FROM hop(bid, date_time, INTERVAL '2 seconds', INTERVAL '10 seconds')
        GROUP BY auction, window_start, window_end
    ) AS CountBids
    GROUP BY CountBids.window_start, CountBids.window_end
) AS MaxBids
ON AuctionBids.window_start = MaxBids.window_start
   AND AuctionBids.window_end = MaxBids.window_end
   AND AuctionBids.num >= MaxBids.maxn
