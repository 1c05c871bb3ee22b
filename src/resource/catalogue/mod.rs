//! The resource catalogue: one entry per Cliniko resource routiq-sync copies. Adding a
//! resource is a variant here, its entry file, its two migrations, its fake route and its
//! docs rows; everything else derives from the entry.

mod appointment_types;
mod appointments;
mod attendees;
mod availability_blocks;
mod billable_items;
mod businesses;
mod contacts;
mod daily_availabilities;
mod group_appointments;
mod invoice_items;
mod invoices;
mod patient_cases;
mod patients;
mod practitioners;
mod products;
mod referral_sources;
mod unavailable_blocks;

use super::spec::Spec;

/// One kind of record synced from Cliniko into its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    Patients,
    Appointments,
    AppointmentTypes,
    Practitioners,
    Businesses,
    GroupAppointments,
    Attendees,
    Invoices,
    Products,
    BillableItems,
    InvoiceItems,
    DailyAvailabilities,
    AvailabilityBlocks,
    UnavailableBlocks,
    Contacts,
    PatientCases,
    ReferralSources,
}

/// Every resource's entry, in the order a sync walks them and in [`Resource`]'s order
/// (a test holds the two together).
pub const CATALOGUE: &[Spec] = &[
    patients::SPEC,
    appointments::SPEC,
    appointment_types::SPEC,
    practitioners::SPEC,
    businesses::SPEC,
    group_appointments::SPEC,
    attendees::SPEC,
    invoices::SPEC,
    products::SPEC,
    billable_items::SPEC,
    invoice_items::SPEC,
    daily_availabilities::SPEC,
    availability_blocks::SPEC,
    unavailable_blocks::SPEC,
    contacts::SPEC,
    patient_cases::SPEC,
    referral_sources::SPEC,
];
