#!/usr/bin/perl
# Writes a tiny MaxMind-format GeoIP database for the example and the tests: a few networks with a country code and
# an English city name, in the layout of GeoLite2-City (country.iso_code, city.names.en).
# Usage: make_geo_db.pl <out.mmdb>   (in production, point geoip.database at GeoLite2-City.mmdb)
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;
use File::Basename qw(dirname);
use File::Path qw(make_path);

my $out = shift or die "usage: $0 <out.mmdb>\n";
my %types = (
    country  => 'map',
    city     => 'map',
    names    => 'map',
    iso_code => 'utf8_string',
    en       => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version            => 6,
    record_size           => 24,
    database_type         => 'Millrace-Test-City',
    languages             => ['en'],
    description           => { en => 'Millrace test GeoIP database' },
    map_key_type_callback => sub { $types{ $_[0] } },
    # the test networks are documentation ranges, which the writer drops by default
    remove_reserved_networks => 0,
);
my @networks = (
    [ '81.2.69.0/24',   'GB', 'London' ],
    [ '89.160.20.0/24', 'SE', 'Linkoping' ],
    [ '5.9.0.0/16',     'DE', 'Berlin' ],
    [ '203.0.113.0/24', 'JP', 'Osaka' ],
    [ '2001:db8::/32',  'NL', 'Amsterdam' ],
);
for my $n (@networks) {
    my ( $network, $country, $city ) = @$n;
    $tree->insert_network( $network,
        { country => { iso_code => $country }, city => { names => { en => $city } } } );
}
# 198.51.100.0/24: a country but no city.
$tree->insert_network( '198.51.100.0/24', { country => { iso_code => 'BR' } } );
make_path( dirname($out) );
open my $fh, '>:raw', $out or die "cannot write $out: $!\n";
$tree->write_tree($fh);
close $fh;
