-- Nexmark q8, monitor new users: people who registered and opened an auction in the same
-- 10-second window (a join of two windowed streams on the window).
-- relations: person, auction
SELECT P.id, P.name, P.window_start AS starttime
FROM (
    SELECT id, name, window_start, window_end
    FROM tumble(person, date_time, INTERVAL '10 seconds')
    GROUP BY id, name, window_start, window_end
) AS P
JOIN (
    SELECT seller, window_start, window_end
    FROM tumble(auction, date_time, INTERVAL '10 seconds')
    GROUP BY seller, window_start, window_end
) AS A ON P.id = A.seller AND P.window_start = A.window_start AND P.window_end = A.window_end
