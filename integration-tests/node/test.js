// node mysql2 against ragproxy: execute() (server-side prepared statements, the binary protocol) of AI statements
// gives what query() (the text protocol) gives, on one connection and from a pool of 10 running mixed statements
// concurrently. Run by NodeMysql2Test with RAGPROXY_HOST, RAGPROXY_PORT, RAGPROXY_USER, RAGPROXY_PASSWORD,
// RAGPROXY_DB and RAGPROXY_STATEMENTS (how many the pool runs); prints one line per check and exits 1 on a failure.
'use strict';
const mysql = require('mysql2/promise');
const assert = require('node:assert/strict');

const config = {
  host: process.env.RAGPROXY_HOST || '127.0.0.1',
  port: Number(process.env.RAGPROXY_PORT || 3307),
  user: process.env.RAGPROXY_USER || 'root',
  password: process.env.RAGPROXY_PASSWORD || '',
  database: process.env.RAGPROXY_DB,
};
const STATEMENTS = Number(process.env.RAGPROXY_STATEMENTS || 1000);

const PROMPTS = ['Name a colour', "It's a 'quoted' prompt", 'été', 'What is a vector?', 'Say hi'];

/** The statements a user runs, each as [sql with ?, values]. */
function statement(i) {
  const p = PROMPTS[i % PROMPTS.length];
  switch (i % 4) {
    case 0: return ['SELECT GENERATE(?) AS answer', [p]];
    case 1: return ['SELECT id, content FROM docs ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED(?)) LIMIT 3', [p]];
    case 2: return ['SELECT ? + 1 AS n, ? AS s', [i, p]];
    default: return ['SELECT id, content, VEC_EMBED_COSINE_DISTANCE(embedding, ?) < 2 AS near FROM docs WHERE id <= ?',
      [p, 3]];
  }
}

/** What query() (text protocol, values escaped by the client) gives for the same statement. */
async function viaQuery(conn, sql, values) {
  const [rows] = await conn.query(mysql.format(sql, values));
  return JSON.stringify(rows);
}

async function viaExecute(conn, sql, values) {
  const [rows] = await conn.execute(sql, values);
  return JSON.stringify(rows);
}

async function main() {
  const conn = await mysql.createConnection(config);
  await conn.query('DROP TABLE IF EXISTS docs');
  await conn.query('CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512))');
  for (let id = 1; id <= 5; id++) {
    const [r] = await conn.execute('INSERT INTO docs (id, content, embedding) VALUES (?, ?, EMBED(?))',
      [id, 'node document ' + id, 'node document ' + id]);
    assert.equal(r.affectedRows, 1);
  }
  const [stored] = await conn.query('SELECT COUNT(*) AS n FROM docs WHERE embedding IS NOT NULL');
  assert.equal(stored[0].n, 5);
  console.log('ok insert with EMBED(?)');
  for (let i = 0; i < 8; i++) {
    const [sql, values] = statement(i);
    assert.equal(await viaExecute(conn, sql, values), await viaQuery(conn, sql, values), sql);
  }
  console.log('ok execute() equals query() on one connection');
  const expected = new Map();
  for (let i = 0; i < 4 * PROMPTS.length; i++) {
    const [sql, values] = statement(i);
    if (i % 4 !== 2) {
      expected.set(i % (4 * PROMPTS.length), await viaQuery(conn, sql, values));
    }
  }
  await conn.end();

  const pool = mysql.createPool({ ...config, connectionLimit: 10 });
  let ok = 0;
  const failures = [];
  await Promise.all(Array.from({ length: STATEMENTS }, async (_, i) => {
    const [sql, values] = statement(i);
    try {
      const got = await viaExecute(pool, sql, values);
      const want = i % 4 === 2 ? await viaQuery(pool, sql, values) : expected.get(i % (4 * PROMPTS.length));
      assert.equal(got, want, sql);
      ok++;
    } catch (e) {
      failures.push(`${i}: ${e.message}`);
    }
  }));
  await pool.end();
  console.log(`pool: ${ok}/${STATEMENTS} ok`);
  if (failures.length > 0) {
    console.log(failures.slice(0, 10).join('\n'));
    process.exit(1);
  }
  console.log('ok pool of 10');
}

main().catch((e) => {
  console.log('FAILED ' + (e.stack || e));
  process.exit(1);
});
