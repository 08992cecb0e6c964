-- Nexmark q4, average price per category: the winning (highest) bid of each closed auction,
-- averaged per category. Both aggregates update as bids arrive: the result is a changelog
-- keyed by category.
-- relations: auction, bid
-- key: category
SELECT Q.category, avg(Q.final) AS avg_final
FROM (
    SELECT max(B.price) AS final, A.category
    FROM auction AS A
    JOIN bid AS B ON A.id = B.auction
    WHERE B.date_time BETWEEN A.date_time AND A.expires
    GROUP BY A.id, A.category
) AS Q
GROUP BY Q.category
