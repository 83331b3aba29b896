import type { Db } from './db';
import type { CustomLossRecord } from '@shared/custom-losses';

interface CustomLossRow {
  id: number;
  name: string;
  formula: string;
  created_at: number;
}

const toRecord = (r: CustomLossRow): CustomLossRecord => ({ id: r.id, name: r.name, formula: r.formula, createdAt: r.created_at });

/** Named loss formulas saved from the Losses view; the formula is checked by the API before it gets here. */
export class CustomLossStore {
  constructor(private readonly db: Db) {}

  /** Saves a new loss; undefined when the name is taken (names are unique). */
  create(name: string, formula: string): CustomLossRecord | undefined {
    const res = this.db
      .prepare(`INSERT INTO custom_losses (name, formula, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING`)
      .run(name, formula, Date.now());
    return res.changes ? this.get(Number(res.lastInsertRowid)) : undefined;
  }

  get(id: number): CustomLossRecord | undefined {
    const r = this.db.prepare(`SELECT * FROM custom_losses WHERE id = ?`).get(id) as CustomLossRow | undefined;
    return r && toRecord(r);
  }

  byName(name: string): CustomLossRecord | undefined {
    const r = this.db.prepare(`SELECT * FROM custom_losses WHERE name = ?`).get(name) as CustomLossRow | undefined;
    return r && toRecord(r);
  }

  /** In the order they were saved. */
  list(): CustomLossRecord[] {
    return (this.db.prepare(`SELECT * FROM custom_losses ORDER BY id`).all() as CustomLossRow[]).map(toRecord);
  }

  delete(id: number): boolean {
    return this.db.prepare(`DELETE FROM custom_losses WHERE id = ?`).run(id).changes > 0;
  }
}
