"""The market's rules written as Mesa 3 agents: the reference for benchmarks/market.py.

Each customer and seller is a ``mesa.Agent`` with its state as attributes and its rules as
methods, stepped by the model one agent at a time, the way a Mesa model is usually written;
the platform's rules (ranking, delivery, books, reinvestment) run in ``MesaMarket.step``.
The rules, their order within a month and the parameters are those of
``flywheel_sim.market`` (docs/models/market.md); the random numbers are not (Mesa's
``model.random`` draws them agent by agent), so the two agree in distribution, not run by run.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import mesa
import numpy as np

from flywheel_sim.market import MarketParams


class Offer:
    __slots__ = (
        "category",
        "cost",
        "demand",
        "forecast",
        "inventory",
        "price",
        "quality",
        "rating_sum",
        "reviews",
        "seller",
        "sold",
    )

    def __init__(self, category: int, quality: float, cost: float, seller: Seller | None) -> None:
        self.category, self.quality, self.cost, self.seller = category, quality, cost, seller
        self.price = 0.0
        self.rating_sum, self.reviews = 0.0, 0
        self.inventory, self.forecast, self.sold, self.demand = 0, 0.0, 0, 0

    def platform_fulfilled(self, fba_on: bool) -> bool:
        return self.seller is None or (fba_on and self.seller.fba)

    def shown(self, prior: float) -> float:
        return (3.0 * prior + self.rating_sum) / (prior + self.reviews)


class Customer(mesa.Agent):
    def __init__(self, model: MesaMarket, active: bool, sens: tuple[float, ...], aff: list[float]):
        super().__init__(model)
        self.active, self.prime = active, False
        self.a, self.b, self.d = sens
        self.satisfaction, self.eligible_orders = 0.5, 0.0
        self.affinity = aff
        self.trip_values: list[float] = []
        self.bought: list[Offer] = []

    def adopt(self) -> None:
        m = self.model
        if not self.active and m.random.random() < m.adopt_chance:
            self.active, self.satisfaction, self.eligible_orders = True, 0.5, 0.0
            m.month_out["acquisition"] += 1

    def shop(self) -> None:
        m, p = self.model, self.model.p
        self.trip_values, self.bought = [], []
        if not self.active:
            return
        rate = p.base_trips * (1 + p.frequency_elasticity * self.satisfaction)
        if self.prime:
            rate *= p.prime_trip_multiplier
        for _ in range(_poisson(m.random, rate)):
            m.traffic += 1
            total = sum(self.affinity)
            target, run, cat = m.random.random() * total, 0.0, 0
            for value in self.affinity:
                run += value
                if run <= target:
                    cat += 1
            cat = min(cat, m.n_cat - 1)
            ranked = m.ranking[cat]
            options: list[Offer | None] = list(ranked[: m.k]) + [None] * (m.k - len(ranked[: m.k]))
            for _ in range(int(p.recommendations)):
                pick = int(m.random.random() * len(ranked)) if ranked else -1
                options.append(ranked[min(pick, len(ranked) - 1)] if ranked else None)
            weights = []
            for j, o in enumerate(options):
                if o is None:
                    weights.append(0.0)
                    continue
                free = self.prime and m.eligible(o)
                paid = o.price if free else o.price + p.shipping_fee
                if o.platform_fulfilled(m.fba_on):
                    days = m.days[1] if self.prime else m.days[0]
                else:
                    days = o.seller.days  # type: ignore[union-attr]
                u = (p.platform_appeal - j * p.position_cost) + p.trust_weight * math.log1p(
                    o.reviews
                )
                u -= self.a * (math.log(paid) - m.log_ref[cat])
                u += self.b * (o.shown(p.rating_prior) - 3.0)
                u -= self.d * days
                weights.append(math.exp(min(u, 30.0)))
            whole = 1.0 + sum(weights)
            self.trip_values.append(1.0 - 1.0 / whole)
            goal, run, chosen = m.random.random() * whole, 1.0, -1
            if goal >= 1.0:
                for j, w in enumerate(weights):
                    run += w
                    if goal < run:
                        chosen = j
                        break
                else:
                    chosen = len(weights) - 1
            if chosen >= 0 and options[chosen] is not None:
                m.requests.append((self, options[chosen], chosen, len(self.trip_values) - 1))

    def learn(self) -> None:
        m, p = self.model, self.model.p
        if self.trip_values:
            mean = sum(self.trip_values) / len(self.trip_values)
            self.satisfaction += p.satisfaction_memory * (mean - self.satisfaction)
        if self.bought and p.affinity_learning > 0:
            counts = [0.0] * m.n_cat
            for o in self.bought:
                counts[o.category] += 1.0
            n, r = len(self.bought), p.affinity_learning
            self.affinity = [
                (1 - r) * a + r * c / n for a, c in zip(self.affinity, counts, strict=True)
            ]
        if self.active:
            eligible = sum(1 for o in self.bought if o.platform_fulfilled(m.fba_on))
            self.eligible_orders += p.satisfaction_memory * (eligible - self.eligible_orders)

    def churn_and_prime(self) -> None:
        m, p = self.model, self.model.p
        if not self.active:
            return
        hazard = p.churn_max * max(0.0, 1.0 - self.satisfaction / p.churn_threshold)
        if self.prime:
            hazard *= 1.0 - p.prime_churn_reduction
        if m.random.random() < hazard:
            self.active = False
            if self.prime:
                m.month_out["prime_leaving"] += 1
            self.prime = False
            m.month_out["churn"] += 1
            return
        if m.prime_on and m.random.random() < 1.0 / p.prime_review_months:
            speed = self.d / p.speed_sensitivity
            value = self.eligible_orders * p.shipping_fee * (1 + p.prime_speed_value * speed)
            want = value > p.prime_fee
            if want != self.prime:
                m.month_out["prime_joining" if want else "prime_leaving"] += 1
            self.prime = want


class Seller(mesa.Agent):
    def __init__(self, model: MesaMarket, category: int, days: float) -> None:
        super().__init__(model)
        self.category, self.days = category, days
        self.active = self.fba = False
        self.losses, self.profit = 0, 0.0
        self.offers: list[Offer] = []
        self.proceeds = self.merchant_units = 0.0

    def enter(self) -> None:
        m, p = self.model, self.model.p
        if self.active or not m.open or m.random.random() >= m.entry_chance:
            return
        self.active, self.fba, self.losses, self.profit = True, False, 0, 0.0
        for o in self.offers:
            o.reviews, o.rating_sum, o.inventory = 0, 0.0, 0
            o.forecast, o.sold, o.demand = p.initial_stock, 0, 0
            lo, hi = self.bounds(o)
            o.price = min(max(m.lead[o.category] * (1 - p.undercut), lo), hi)
        m.month_out["seller_entry"] += 1

    def bounds(self, o: Offer) -> tuple[float, float]:
        p = self.model.p
        fee = p.fba_fee if self.fba else max(p.merchant_shipping_cost - p.shipping_fee, 0.0)
        keep = max(1 - p.commission_rate, 1e-6)
        return (o.cost * (1 + p.min_markup) + fee) / keep, (
            o.cost * (1 + p.max_markup) + fee
        ) / keep

    def reprice(self) -> None:
        m, p = self.model, self.model.p
        if not self.active:
            return
        for o in self.offers:
            if o.demand > o.sold:
                target = o.price * (1 + p.undercut)
            else:
                target = m.lead[o.category] * (1 - p.undercut)
            lo, hi = self.bounds(o)
            o.price = min(max(o.price + p.price_adjustment * (target - o.price), lo), hi)

    def settle(self) -> None:
        m, p = self.model, self.model.p
        if not self.active:
            self.profit = 0.0
            return
        cost = sum(o.cost * o.sold for o in self.offers)
        profit = (
            self.proceeds
            - cost
            - p.merchant_shipping_cost * self.merchant_units
            - p.seller_fixed_cost
        )
        self.profit = profit
        self.losses = self.losses + 1 if profit < 0 else 0
        if self.losses < p.exit_after:
            m.margins.append(profit + p.seller_fixed_cost)
        else:
            self.active = self.fba = False
            for o in self.offers:
                m.month_out["units_written_off"] += o.inventory
                o.inventory = 0
            m.month_out["seller_exit"] += 1

    def choose_fba(self) -> None:
        m, p = self.model, self.model.p
        if not (self.active and m.fba_on) or m.random.random() >= 1.0 / p.fba_review_months:
            return
        price = sum(o.price for o in self.offers) / len(self.offers)
        cost = sum(o.cost for o in self.offers) / len(self.offers)
        keep = price * (1 - p.commission_rate) - cost
        self.fba = (1 + m.lift) * (keep - p.fba_fee) > keep + p.shipping_fee - (
            p.merchant_shipping_cost
        )


def _poisson(random: Any, lam: float) -> int:
    limit, k, prod = math.exp(-lam), 0, random.random()
    while prod > limit:
        k += 1
        prod *= random.random()
    return k


class MesaMarket(mesa.Model):
    def __init__(self, params: MarketParams, customers: int, sellers: int, seed: int) -> None:
        super().__init__(rng=seed)
        p = self.p = params
        r = self.random
        self.n_cat, self.k = int(p.categories), int(p.search_results)
        ref = [p.reference_price * math.exp(0.5 * r.gauss(0, 1)) for _ in range(self.n_cat)]
        self.ref, self.log_ref, self.lead = ref, [math.log(x) for x in ref], list(ref)

        def trait(mean: float) -> float:
            return mean * math.exp(0.4 * r.gauss(0, 1) - 0.08)

        for _ in range(customers):
            aff = [r.expovariate(1.0) for _ in range(self.n_cat)]
            s = sum(aff)
            sens = (
                trait(p.price_sensitivity),
                trait(p.quality_sensitivity),
                trait(p.speed_sensitivity),
            )
            Customer(self, r.random() < p.initial_customer_share, sens, [a / s for a in aff])

        def offer(cat: int, seller: Seller | None) -> Offer:
            q = r.uniform(p.quality_low, p.quality_high)
            cost = ref[cat] * p.cost_share * (q / 3.5) * math.exp(0.15 * r.gauss(0, 1))
            return Offer(cat, q, cost, seller)

        self.own = [
            offer(r.randrange(int(p.first_party_categories)), None)
            for _ in range(int(p.first_party_offers))
        ]
        for o in self.own:
            o.inventory, o.forecast = int(p.initial_stock), p.initial_stock
        for _ in range(sellers):
            s = Seller(
                self, r.randrange(self.n_cat), r.uniform(p.merchant_days_low, p.merchant_days_high)
            )
            s.offers = [offer(s.category, s) for _ in range(int(p.offers_per_seller))]
        self.customers = list(self.agents_by_type[Customer])
        self.sellers = list(self.agents_by_type[Seller])
        self.capacity = p.initial_capacity * customers
        self.pipeline = [0.0] * (int(p.construction_months) + 1)
        self.markup, self.utilisation, self.traffic, self.lift, self.margin = (
            p.first_party_markup,
            0.0,
            0.0,
            0.0,
            0.0,
        )
        self.month = 0
        self.history: dict[str, list[float]] = defaultdict(list)

    def eligible(self, o: Offer) -> bool:
        return self.prime_on and o.platform_fulfilled(self.fba_on)

    def listed(self) -> list[Offer]:
        return self.own + [o for s in self.sellers if s.active for o in s.offers]

    def step(self) -> None:  # one month, in the order of market/step.py
        p, t, r = self.p, self.month, self.random
        self.open, self.prime_on, self.fba_on = (
            t >= p.marketplace_start,
            t >= p.prime_start,
            t >= p.fba_start,
        )
        share = p.harvest_share if t >= p.harvest_from else p.reinvest_share
        out = self.month_out = defaultdict(float)
        n = len(self.customers)
        out["prime_fees"] = sum(c.prime for c in self.customers) * p.prime_fee
        active_sellers = [s for s in self.sellers if s.active]
        traffic = max(self.traffic / (n * p.base_trips), 1e-9)
        earning = (
            max(self.margin / p.seller_fixed_cost, 1e-9)
            if active_sellers and p.seller_fixed_cost > 0
            else 1.0
        )
        self.entry_chance = min(
            1.0, p.seller_entry_rate * traffic**p.traffic_elasticity * earning**p.sales_elasticity
        )
        self.agents_by_type[Seller].do("enter")
        on_sale = self.listed()
        for o in self.own:
            o.price = o.cost * (1 + self.markup)
        self.agents_by_type[Seller].do("reprice")
        for o in on_sale:
            o.inventory += max(math.ceil(o.forecast * (1 + p.safety_stock)) - o.inventory, 0)
        by_cat: dict[int, list[tuple[float, Offer]]] = defaultdict(list)
        for o in on_sale:
            if o.inventory > 0:
                score = (
                    p.rank_rating_weight * (o.shown(p.rating_prior) - 3.0)
                    + p.rank_sales_weight * math.log1p(o.sold)
                    - p.rank_price_weight * math.log(o.price / self.ref[o.category])
                    + (p.rank_prime_weight if self.prime_on else 0.0) * self.eligible(o)
                )
                by_cat[o.category].append((-score, o))
        self.ranking = {
            c: [o for _, o in sorted(by_cat[c], key=lambda x: x[0])] for c in range(self.n_cat)
        }
        for c, ranked in self.ranking.items():
            if ranked:
                top = ranked[: self.k]
                self.lead[c] = sum(o.price for o in top) / len(top)
        density = (max(self.capacity / n, 1e-12) / p.capacity_reference) ** -p.density_elasticity
        strain = 1 + p.strain_slope * max(0.0, self.utilisation - p.strain_threshold)
        self.days = (
            max(p.minimum_days, p.standard_days * density) * strain,
            max(p.minimum_days, p.prime_days * density) * strain,
        )
        satisfied = sum(c.satisfaction for c in self.customers if c.active) / n
        hazard = (
            p.innovation_rate * (len(on_sale) / p.selection_reference) ** p.selection_elasticity
            + p.word_of_mouth * satisfied
        )
        self.adopt_chance = -math.expm1(-hazard)
        self.agents_by_type[Customer].do("adopt")
        self.requests: list[tuple[Customer, Offer, int, int]] = []
        self.traffic = 0
        self.agents_by_type[Customer].shuffle_do("shop")
        # stock: when more shoppers want an offer than it has, a random subset is served
        wanted: dict[int, list[tuple[Customer, Offer, int, int]]] = defaultdict(list)
        for req in self.requests:
            wanted[id(req[1])].append(req)
        for o in self.own + [o for s in self.sellers for o in s.offers]:
            o.sold, o.demand = 0, 0
        served = []
        for reqs in wanted.values():
            o = reqs[0][1]
            o.demand = len(reqs)
            if len(reqs) > o.inventory:
                r.shuffle(reqs)
                for cust, _, _, trip in reqs[o.inventory :]:
                    cust.trip_values[trip] *= p.stockout_penalty
                    out["stockouts"] += 1
                reqs = reqs[: o.inventory]
            o.sold = len(reqs)
            o.inventory -= len(reqs)
            served += reqs
        for s in self.sellers:
            s.proceeds = s.merchant_units = 0.0
        platform_units = delivered = relative = 0.0
        cogs = first_party = services = shipping_rev = 0.0
        for cust, o, _, _ in served:
            cust.bought.append(o)
            free = cust.prime and self.eligible(o)
            ship = 0.0 if free else p.shipping_fee
            by_platform = o.platform_fulfilled(self.fba_on)
            out["customer_spend"] += o.price + ship
            out["gross_merchandise_sales"] += o.price
            relative += o.price / self.ref[o.category]
            if by_platform:
                platform_units += 1
                shipping_rev += ship
                delivered += self.days[1] if free else self.days[0]
            else:
                delivered += o.seller.days  # type: ignore[union-attr]
            if o.seller is None:
                first_party += o.price
                cogs += o.cost
            else:
                commission = p.commission_rate * o.price
                fba = p.fba_fee if by_platform else 0.0
                services += commission + fba
                o.seller.proceeds += o.price - commission - fba + (0.0 if by_platform else ship)
                o.seller.merchant_units += 0.0 if by_platform else 1.0
            if r.random() < p.review_probability:
                o.rating_sum += min(max(o.quality + p.rating_noise * r.gauss(0, 1), 1.0), 5.0)
                o.reviews += 1
        units = len(served)
        # the lift sellers will see next month (units per platform- vs merchant-fulfilled offer)
        fast = [o for o in on_sale if o.platform_fulfilled(self.fba_on)]
        slow = [o for o in on_sale if not o.platform_fulfilled(self.fba_on)]
        lift = self.lift
        if fast and slow:
            per_slow = sum(o.sold for o in slow) / len(slow)
            if per_slow > 0:
                seen = (sum(o.sold for o in fast) / len(fast)) / per_slow - 1.0
                lift += 0.5 * (seen - lift)
        self.agents_by_type[Customer].do("learn")
        self.agents_by_type[Customer].do("churn_and_prime")
        self.margins: list[float] = []
        self.agents_by_type[Seller].do("settle")
        still = [s for s in self.sellers if s.active]
        self.margin = sum(self.margins) / len(still) if still else 0.0
        self.agents_by_type[Seller].do("choose_fba")
        for o in self.own + [o for s in self.sellers for o in s.offers]:
            o.forecast += p.forecast_weight * (o.demand - o.forecast)
        self.utilisation = platform_units / self.capacity if self.capacity > 0 else math.inf
        strain = 1 + p.strain_slope * max(0.0, self.utilisation - p.strain_threshold)
        gross = (
            first_party
            - cogs
            + services
            + shipping_rev
            + out["prime_fees"]
            - p.fulfilment_cost * platform_units * strain
            - p.capacity_upkeep * self.capacity
        )
        capacity_now = self.capacity
        budget = share * max(gross, 0.0)
        cut = p.price_part * budget / cogs if cogs > 0 else 0.0
        self.markup = max(p.first_party_min_markup, p.first_party_markup - cut)
        self.pipeline[-1] += budget * (1 - p.price_part) / p.capital_per_capacity
        self.capacity += self.pipeline[0]
        self.pipeline = [*self.pipeline[1:], 0.0]
        listed_now = self.listed()
        self.lift = lift
        record = {
            "customers": sum(c.active for c in self.customers),
            "prime_members": sum(c.prime for c in self.customers),
            "sellers": len(still),
            "selection": len(listed_now),
            "orders": units,
            "traffic": self.traffic,
            "first_party_sales": first_party,
            "net_sales": first_party + services + shipping_rev + out["prime_fees"],
            "operating_income": gross - p.platform_fixed_cost * n,
            "capacity": capacity_now,
            "price_index": relative / units if units else float("nan"),
            "delivery_days": delivered / units if units else float("nan"),
        }
        for key, value in {**out, **record}.items():
            self.history[key].append(float(value))
        self.month += 1


def run_mesa(
    params: MarketParams, *, customers: int, sellers: int, months: int, seed: int
) -> dict[str, np.ndarray]:
    """One run of the Mesa reference: variable -> (months,) array."""
    model = MesaMarket(params, customers, sellers, seed)
    for _ in range(months):
        model.step()
    return {k: np.asarray(v) for k, v in model.history.items()}
