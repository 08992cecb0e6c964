-- Nexmark q2, selection: the bids on a few auctions (ids that are multiples of 123).
-- relations: bid
SELECT auction, price FROM bid WHERE mod(auction, 123) = 0
