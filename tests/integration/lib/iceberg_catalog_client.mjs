// Drives Millrace's Iceberg REST catalog with iceberg-js (a REST catalog client no one here
// wrote) and prints one JSON line per step for the test to check.
// Usage: node iceberg_catalog_client.mjs <base-url, e.g. http://127.0.0.1:8080/iceberg> <token|->
//          <table> <new column name> [<warehouse>]
// Steps: list namespaces, list tables, load the table, commit add-schema + set-current-schema
// (a new optional long column) with the requirements a client states, then commit the same
// change again with the now stale requirements, which must fail with a 409.
import { IcebergRestCatalog } from 'iceberg-js';

const [baseUrl, token, table, column, warehouse] = process.argv.slice(2);
const catalog = new IcebergRestCatalog({
  baseUrl,
  warehouse,
  auth: token === '-' ? { type: 'none' } : { type: 'bearer', token },
});
const print = (step, value) => console.log(JSON.stringify({ step, ...value }));

const { namespaces } = await catalog.listNamespaces();
print('namespaces', { namespaces: namespaces.map((n) => n.namespace.join('.')) });
const { identifiers } = await catalog.listTables({ namespace: ['default'] });
print('tables', { tables: identifiers.map((t) => t.name) });
print('namespace_exists', { exists: await catalog.namespaceExists({ namespace: ['default'] }) });
const id = { namespace: ['default'], name: table };
print('table_exists', { exists: await catalog.tableExists(id) });

const metadata = await catalog.loadTable(id);
const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
print('loaded', {
  format: metadata['format-version'],
  columns: schema.fields.map((f) => f.name),
  snapshot: metadata['current-snapshot-id'],
});

const requirements = [
  { type: 'assert-table-uuid', uuid: metadata['table-uuid'] },
  { type: 'assert-current-schema-id', 'current-schema-id': metadata['current-schema-id'] },
  { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': metadata['last-column-id'] },
];
const newId = metadata['last-column-id'] + 1;
const updates = [
  {
    action: 'add-schema',
    schema: {
      type: 'struct',
      'schema-id': metadata['current-schema-id'] + 1,
      fields: [...schema.fields, { id: newId, name: column, required: false, type: 'long' }],
    },
    'last-column-id': newId,
  },
  { action: 'set-current-schema', 'schema-id': -1 },
  { action: 'set-properties', updates: { 'comment.by': 'iceberg-js' } },
];
const committed = await catalog.commitTable(id, { requirements, updates });
const current = committed.metadata.schemas.find(
  (s) => s['schema-id'] === committed.metadata['current-schema-id'],
);
print('committed', {
  location: committed['metadata-location'],
  columns: current.fields.map((f) => f.name),
  property: committed.metadata.properties['comment.by'],
});

const reloaded = await catalog.loadTable(id);
const reloadedSchema = reloaded.schemas.find((s) => s['schema-id'] === reloaded['current-schema-id']);
print('reloaded', { columns: reloadedSchema.fields.map((f) => f.name) });

try {
  await catalog.commitTable(id, { requirements, updates });
  print('stale_commit', { status: 200 });
} catch (error) {
  print('stale_commit', { status: error.status, type: error.icebergType ?? error.type });
}
