-- Nexmark q3, local item suggestion: people in Oregon, Idaho or California who sell in
-- category 10, with their auctions (a regular stream-stream join: unbounded in Flink, here
-- bounded by the pipeline's state_ttl, longer than the generated event times span).
-- relations: person, auction
-- state_ttl: 1h
SELECT P.name, P.city, P.state, A.id
FROM auction AS A
INNER JOIN person AS P ON A.seller = P.id
WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')
