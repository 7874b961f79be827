// A typical workflow transform: filter, group and summarise records.
//   go run ./cmd/airlock run examples/transform.js --input @examples/orders.json
export default async function (inputs) {
  const orders = (inputs && inputs.orders) || [];
  const paid = orders.filter((o) => o.status === "paid");
  const byCustomer = {};
  for (const o of paid) {
    byCustomer[o.customer] = (byCustomer[o.customer] || 0) + o.total;
  }
  await new Promise((resolve) => setTimeout(resolve, 10)); // timers work
  return {
    count: paid.length,
    revenue: paid.reduce((sum, o) => sum + o.total, 0),
    byCustomer,
    top: Object.entries(byCustomer).sort((a, b) => b[1] - a[1])[0]?.[0] ?? null,
  };
}
