// The products a fresh inventory database starts with. Prices are in cents.
// gold-bar costs more than the default payment limit (a payment that fails);
// unobtainium is never in stock (an order that is rejected).
export interface CatalogueEntry {
  sku: string;
  name: string;
  priceCents: number;
  onHand: number;
}

export const STARTING_CATALOGUE: CatalogueEntry[] = [
  { sku: 'item1', name: 'Rabbit plush', priceCents: 1_500, onHand: 100_000 },
  { sku: 'item2', name: 'Carrot mug', priceCents: 900, onHand: 100_000 },
  { sku: 'item3', name: 'Burrow blueprint', priceCents: 4_200, onHand: 100_000 },
  { sku: 'item4', name: 'Hop counter', priceCents: 2_500, onHand: 100_000 },
  { sku: 'item5', name: 'Warren map', priceCents: 700, onHand: 100_000 },
  { sku: 'limited-edition', name: 'Signed first edition', priceCents: 9_900, onHand: 3 },
  { sku: 'gold-bar', name: 'Gold bar', priceCents: 5_000_000, onHand: 1_000 },
  { sku: 'unobtainium', name: 'Unobtainium', priceCents: 100, onHand: 0 },
];
