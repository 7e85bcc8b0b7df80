package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ParseCron parses a schedule: a standard 5-field cron spec ("0 3 * * *")
// or a descriptor ("@daily", "@every 6h"). robfig/cron v3.0.1 panics on
// some inputs (Parse("TZ=UTC") with nothing after it indexes past the
// end); every such input is an error here. A time zone belongs in
// schedule.timezone, so a "TZ=" or "CRON_TZ=" prefix is refused with a
// pointer there.
func ParseCron(spec string) (sched cron.Schedule, err error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("empty schedule")
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return nil, errors.New("a time zone prefix is not allowed here: set schedule.timezone (or --timezone) instead")
	}
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("unparseable schedule (%v)", r)
		}
	}()
	return cron.ParseStandard(spec)
}

// Location returns the schedule's time zone: UTC unless Timezone names
// another. UTC is the default because local time has days with no
// 02:30 (a 02:30 job is skipped on the spring-forward day) and days with
// two.
func (s ScheduleSpec) Location() (*time.Location, error) {
	if s.Timezone == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(s.Timezone)
}
