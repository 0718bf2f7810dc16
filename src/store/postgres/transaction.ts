import type pg from 'pg';

/**
 * Runs `work` in one transaction on a connection `connect` gives (begun with `begin`, committed
 * when `work` resolves) and hands the connection back. A failed transaction leaves its
 * connection unusable until rolled back: it is destroyed, never reused. Errors are thrown as
 * they are; the caller names them and decides whether to run it again.
 */
export async function inTransaction<T>(connect: () => Promise<pg.PoolClient>, work: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    client.release(true);
    throw error;
  }
}
